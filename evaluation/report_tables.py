"""Report tables and their downloads: CSV, JSON, Markdown and LaTeX (booktabs).

Every report (model comparison, error analysis, agreement, dataset overview) is built
as a :class:`Report` of one or more :class:`Table` s; the page renders the same object
as HTML, and :func:`report_render` gives the download formats, so a figure on the page,
in the API and in each download is the same number.

A cell is a plain value (``str``, ``int``, ``float``, ``None``) or a :class:`Cell` when
it carries more: a 95% CI, a "best in column" mark, a significance marker, a link.
Text formats show floats with ``Table.digits`` decimals (default 3); JSON keeps the
unrounded values. ``None`` is written as an empty CSV field, ``null`` in JSON and an
en dash in Markdown and LaTeX.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

REPORT_FORMATS = ("json", "csv", "md", "tex")
CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "tex": "application/x-tex; charset=utf-8",
}
MISSING_TEXT = "–"


@dataclass
class Cell:
    """A value with what the tables show around it."""

    value: Any
    ci: tuple[float, float] | list[float] | None = None  # 95% CI [lo, hi]
    best: bool = False  # best in its column: bold in Markdown/LaTeX/HTML
    mark: str = ""  # significance marker shown after the value, e.g. "*", "**", "†"
    url: str | None = None  # link on the HTML page (not written to downloads)

    def as_json(self) -> Any:
        if self.ci is None and not self.best and not self.mark:
            return _json_value(self.value)
        out: dict[str, Any] = {"value": _json_value(self.value)}
        if self.ci is not None:
            out["ci"] = [_json_value(v) for v in self.ci]
        if self.best:
            out["best"] = True
        if self.mark:
            out["mark"] = self.mark
        return out


@dataclass
class Column:
    key: str
    label: str
    # "text" (left-aligned), "int", "float" (digits decimals), "pct" (value in [0, 1] shown as %)
    kind: str = "float"


@dataclass
class Table:
    key: str  # machine name, unique within a report ("comparison", "judgements", ...)
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]  # column key -> plain value or Cell
    notes: list[str] = field(default_factory=list)  # footnotes: legend, configuration
    digits: int = 3


@dataclass
class Report:
    kind: str  # "comparison", "errors", "agreement", "dataset"
    title: str
    tables: list[Table]
    meta: dict[str, Any] = field(default_factory=dict)  # selection, configuration, generated at, ...

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _value(cell: Any) -> Any:
    return cell.value if isinstance(cell, Cell) else cell


def cell_text(cell: Any, column: Column, digits: int = 3, *, with_ci: bool = True, mark_format=None) -> str:
    """The cell as text: rounded value, then the marker (through ``mark_format`` when
    given, e.g. escaped for Markdown), then ``[lo, hi]``."""
    value = _value(cell)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        text = ""
    elif column.kind == "pct" and isinstance(value, (int, float)):
        text = f"{100 * value:.{max(digits - 2, 0)}f}%"
    elif column.kind == "int" and isinstance(value, (int, float)):
        text = f"{int(value)}"
    elif isinstance(value, float):
        text = f"{value:.{digits}f}"
    else:
        text = str(value)
    if isinstance(cell, Cell):
        if cell.mark and text:
            text += mark_format(cell.mark) if mark_format else cell.mark
        if with_ci and cell.ci is not None and None not in tuple(cell.ci):
            lo, hi = cell.ci
            text += f" [{lo:.{digits}f}, {hi:.{digits}f}]"
    return text


def report_json(report: Report) -> dict:
    return {
        "kind": report.kind,
        "title": report.title,
        "meta": report.meta,
        "tables": [
            {
                "key": t.key,
                "title": t.title,
                "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in t.columns],
                "rows": [
                    {
                        c.key: (
                            row[c.key].as_json() if isinstance(row.get(c.key), Cell) else _json_value(row.get(c.key))
                        )
                        for c in t.columns
                    }
                    for row in t.rows
                ],
                "notes": t.notes,
            }
            for t in report.tables
        ],
    }


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (``=HYPERLINK(...)`` as a run name)
    is written with a leading apostrophe; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def table_csv(table: Table) -> str:
    """One table as CSV: a header of column labels, then one line per row. Numbers are
    written unrounded; a CI goes to two extra columns ``<label> CI low`` / ``CI high``."""
    ci_columns = {
        c.key for c in table.columns if any(isinstance(r.get(c.key), Cell) and r[c.key].ci for r in table.rows)
    }
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header = []
    for c in table.columns:
        header.append(c.label)
        if c.key in ci_columns:
            header += [f"{c.label} CI low", f"{c.label} CI high"]
    writer.writerow(header)
    for row in table.rows:
        line = []
        for c in table.columns:
            cell = row.get(c.key)
            line.append(_csv_value(_json_value(_value(cell))))
            if c.key in ci_columns:
                ci = cell.ci if isinstance(cell, Cell) and cell.ci is not None else (None, None)
                line += ["" if v is None else v for v in ci]
        writer.writerow(line)
    return buf.getvalue()


def report_csv(report: Report, table_key: str | None = None) -> str:
    """The report's tables as CSV. One table (``table_key``, or a report of one table) is
    plain CSV; several are written one after another, each after a ``# <title>`` line
    and separated by a blank line."""
    if table_key is not None:
        return table_csv(report.table(table_key))
    if len(report.tables) == 1:
        return table_csv(report.tables[0])
    return "\n".join(f"# {t.title}\n{table_csv(t)}" for t in report.tables)


def _md_escape(text: str) -> str:
    """Table-safe and inert: ``|`` escaped, no line breaks, no raw HTML."""
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _md_mark(mark: str) -> str:
    """``*``/``**`` markers would read as Markdown emphasis: escaped."""
    return mark.replace("*", "\\*")


def table_markdown(table: Table) -> str:
    lines = [f"### {_md_escape(table.title)}", ""]
    lines.append("| " + " | ".join(_md_escape(c.label) for c in table.columns) + " |")
    lines.append("|" + "|".join(":---" if c.kind == "text" else "---:" for c in table.columns) + "|")
    for row in table.rows:
        cells = []
        for c in table.columns:
            cell = row.get(c.key)
            text = _md_escape(cell_text(cell, c, table.digits, mark_format=_md_mark)) or MISSING_TEXT
            if isinstance(cell, Cell) and cell.best and text != MISSING_TEXT:
                text = f"**{text}**"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    for note in table.notes:
        lines.append("")
        lines.append(f"_{_md_escape(note)}_")
    return "\n".join(lines) + "\n"


def report_markdown(report: Report) -> str:
    head = [f"## {_md_escape(report.title)}", ""]
    for key, value in report.meta.items():
        if isinstance(value, (str, int, float)) and value != "":
            head.append(f"- {key}: {_md_escape(str(value))}")
    return "\n".join(head) + "\n\n" + "\n".join(table_markdown(t) for t in report.tables)


LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in text)


def _latex_cell(cell: Any, column: Column, digits: int) -> str:
    """Escaped cell text with the marker as a superscript."""
    text = latex_escape(cell_text(cell, column, digits, mark_format=lambda m: f"\x00{m}\x01"))
    return re.sub("\x00(.*?)\x01", lambda m: f"\\textsuperscript{{{m.group(1)}}}", text)


def table_latex(table: Table) -> str:
    """A booktabs table (``\\toprule``, ``\\midrule``, ``\\bottomrule``); needs
    ``\\usepackage{booktabs}``. Best values in bold; notes as a footnote line."""
    spec = "".join("l" if c.kind == "text" else "r" for c in table.columns)
    lines = [
        "\\begin{table}[ht]",
        "\\centering",
        f"\\caption{{{latex_escape(table.title)}}}",
        f"\\label{{tab:{re.sub(r'[^A-Za-z0-9:-]', '-', table.key)}}}",  # \\_ cannot stand in a label
        f"\\begin{{tabular}}{{{spec}}}",
        "\\toprule",
        " & ".join(latex_escape(c.label) for c in table.columns) + " \\\\",
        "\\midrule",
    ]
    for row in table.rows:
        cells = []
        for c in table.columns:
            cell = row.get(c.key)
            text = _latex_cell(cell, c, table.digits) or "--"
            if isinstance(cell, Cell) and cell.best and text != "--":
                text = f"\\textbf{{{text}}}"
            cells.append(text)
        lines.append(" & ".join(cells) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    for note in table.notes:
        lines.append(f"\\par\\footnotesize {latex_escape(note)}")
    lines.append("\\end{table}")
    return "\n".join(lines) + "\n"


def report_latex(report: Report) -> str:
    header = f"% {latex_escape(report.title)}\n% needs \\usepackage{{booktabs}}\n"
    return header + "\n".join(table_latex(t) for t in report.tables)


def report_render(report: Report, fmt: str, *, table_key: str | None = None) -> str:
    """The report as text in one of REPORT_FORMATS (ValueError for another)."""
    if fmt == "json":
        return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return report_csv(report, table_key)
    if table_key is not None:
        report = Report(kind=report.kind, title=report.title, tables=[report.table(table_key)], meta=report.meta)
    if fmt == "md":
        return report_markdown(report)
    if fmt == "tex":
        return report_latex(report)
    raise ValueError(f"format: expected one of {', '.join(REPORT_FORMATS)}, got {fmt!r}")


def report_response(report: Report, fmt: str, *, filename: str, table_key: str | None = None):
    """An HttpResponse downloading the report as ``filename.<fmt>`` (ApplicationError for an
    unknown format or table, so pages and the API answer 400 with the reason)."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    from elmtex_site.errors import ApplicationError, Problem

    if fmt not in REPORT_FORMATS:
        message = f"expected one of {', '.join(REPORT_FORMATS)}, got {fmt!r}"
        raise ApplicationError(f"format: {message}", problems=[Problem(message, field="format")])
    if table_key is not None and table_key not in {t.key for t in report.tables}:
        message = f"unknown table {table_key!r}; choose from {', '.join(t.key for t in report.tables)}"
        raise ApplicationError(f"table: {message}", problems=[Problem(message, field="table")])
    body = report_render(report, fmt, table_key=table_key)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.{fmt}")
    return response
