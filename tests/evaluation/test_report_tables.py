"""The shared report tables: every download format shows the same numbers."""

import csv
import io
import json

import pytest
from django.template import Context, Template

from elmtex_site.errors import ApplicationError
from evaluation.report_tables import (
    Cell,
    Column,
    Report,
    Table,
    report_render,
    report_response,
)


def _report():
    table = Table(
        key="overall",
        title="Runs & metrics",
        columns=[Column("run", "Run", "text"), Column("n", "n", "int"), Column("rougeL", "ROUGE-L")],
        rows=[
            {"run": "model_a", "n": 10, "rougeL": Cell(0.61234, ci=[0.5, 0.7], best=True, mark="*")},
            {"run": "model_b", "n": 9, "rougeL": 0.4},
            {"run": "model_c", "n": 0, "rougeL": None},
        ],
        notes=["* p < 0.05 (paired bootstrap) against model_a"],
    )
    second = Table(
        key="share",
        title="Share",
        columns=[Column("k", "Key", "text"), Column("s", "Share", "pct")],
        rows=[{"k": "a", "s": 0.25}],
    )
    return Report(kind="test", title="Test report", tables=[table, second], meta={"split": "test"})


def test_json_keeps_unrounded_values_and_marks():
    data = json.loads(report_render(_report(), "json"))
    rows = data["tables"][0]["rows"]
    assert rows[0]["rougeL"] == {"value": 0.61234, "ci": [0.5, 0.7], "best": True, "mark": "*"}
    assert rows[1]["rougeL"] == 0.4
    assert rows[2]["rougeL"] is None
    assert data["meta"] == {"split": "test"}


def test_csv_of_one_table_parses_with_ci_columns():
    text = report_render(_report(), "csv", table_key="overall")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Run", "n", "ROUGE-L", "ROUGE-L CI low", "ROUGE-L CI high"]
    assert rows[1] == ["model_a", "10", "0.61234", "0.5", "0.7"]
    assert rows[3] == ["model_c", "0", "", "", ""]


def test_csv_of_several_tables_has_titled_sections():
    text = report_render(_report(), "csv")
    assert text.startswith("# Runs & metrics\n")
    assert "\n# Share\nKey,Share\na,0.25\n" in text


def test_markdown_rounds_bolds_best_and_marks():
    text = report_render(_report(), "md")
    assert "| Run | n | ROUGE-L |" in text
    assert "| model_a | 10 | **0.612\\* [0.500, 0.700]** |" in text  # the marker is not emphasis
    assert "| model_c | 0 | – |" in text
    assert "| a | 25.0% |" in text


def test_latex_is_booktabs_and_escaped():
    text = report_render(_report(), "tex", table_key="overall")
    assert "\\toprule" in text and "\\midrule" in text and "\\bottomrule" in text
    assert "Runs \\& metrics" in text
    assert "model\\_a & 10 & \\textbf{0.612\\textsuperscript{*} [0.500, 0.700]} \\\\" in text
    assert "model\\_c & 0 & -- \\\\" in text


def test_unknown_format_or_table_is_refused():
    with pytest.raises(ApplicationError, match="format"):
        report_response(_report(), "xlsx", filename="r")
    with pytest.raises(ApplicationError, match="table: unknown table 'nope'"):
        report_response(_report(), "csv", filename="r", table_key="nope")


def test_response_downloads_with_a_file_name():
    response = report_response(_report(), "tex", filename="compare-demo")
    assert response["Content-Disposition"] == 'attachment; filename="compare-demo.tex"'
    assert response["Content-Type"].startswith("application/x-tex")


def test_partial_renders_links_best_and_escapes():
    report = _report()
    report.tables[0].rows[1]["run"] = Cell("<b>x</b>", url="/p/demo/documents/1/")
    html = Template('{% include "evaluation/reports/_table.html" with table=t %}').render(
        Context({"t": report.tables[0]})
    )
    assert '<strong title="best in column">0.612*' in html
    assert '<a href="/p/demo/documents/1/">&lt;b&gt;x&lt;/b&gt;</a>' in html
    assert "[0.500, 0.700]" in html


def test_csv_text_that_a_spreadsheet_would_run_is_defused():
    table = Table(
        key="t",
        title="T",
        columns=[Column("run", "Run", "text"), Column("v", "Value")],
        rows=[{"run": '=HYPERLINK("http://x","y")', "v": -0.5}, {"run": "@cmd", "v": 0.1}],
    )
    rows = list(csv.reader(io.StringIO(report_render(Report("k", "R", [table]), "csv"))))
    assert rows[1] == ['\'=HYPERLINK("http://x","y")', "-0.5"]  # numbers stay numbers
    assert rows[2][0] == "'@cmd"


def test_latex_labels_compile_and_markdown_holds_no_raw_html():
    table = Table(key="category_rouge1", title="T", columns=[Column("run", "Run", "text")], rows=[{"run": "<script>"}])
    report = Report("k", "R", [table])
    assert "\\label{tab:category-rouge1}" in report_render(report, "tex")
    assert "| &lt;script&gt; |" in report_render(report, "md")


def test_bad_format_and_table_name_their_parameter():
    with pytest.raises(ApplicationError) as refused:
        report_response(_report(), "pdf", filename="r")
    assert refused.value.problems[0].field == "format"
    with pytest.raises(ApplicationError) as refused:
        report_response(_report(), "csv", filename="r", table_key="nope")
    assert refused.value.problems[0].field == "table"
