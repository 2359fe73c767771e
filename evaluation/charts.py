"""Comparison charts as SVG, drawn server-side with matplotlib (no JavaScript; the files
can be saved and put into a paper).

Pure: no Django. matplotlib's object API (``Figure``) draws without pyplot's global state,
so no GUI backend is chosen and requests in threads do not share figures. The output is
deterministic for the same input (``svg.hashsalt`` fixed, no date in the metadata), and
text stays text (``svg.fonttype`` none: searchable, small, the viewer's sans-serif font;
no font files are downloaded or embedded).

Every bar is a ``<g id="bar-<run>-<category>">`` and every heatmap cell a
``<g id="cell-<run>-<category>">`` (run and category with characters other than letters,
digits, ``_``, ``.`` and ``-`` replaced by ``_``), so they can be found in the SVG.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence

SVG_RC = {
    "svg.hashsalt": "elmtex",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
}
MISSING_COLOR = "#dddddd"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(text))


def _safe_names(names: Sequence[str]) -> list[str]:
    """``_safe`` of each name, made unique within the chart ("a b" and "a_b" are two runs:
    the second becomes "a_b-2")."""
    out: list[str] = []
    for name in names:
        safe = base = _safe(name)
        n = 1
        while safe in out:
            n += 1
            safe = f"{base}-{n}"
        out.append(safe)
    return out


def _text(value) -> str:
    """Text for matplotlib as written: a ``$`` would start mathtext (garbled or refused)."""
    return str(value).replace("$", r"\$")


def _svg(figure) -> str:
    buf = io.StringIO()
    figure.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buf.getvalue()


def bars_svg(
    categories: Sequence[str],
    runs: Sequence[str],
    values: Sequence[Sequence[float | None]],
    metric: str,
    *,
    labels: Sequence[str] | None = None,
) -> str:
    """Grouped bars: one group per category, one bar per run (``values[run][category]``;
    a None value draws no bar). ``labels``: category labels for the axis (default the keys)."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    labels = list(labels) if labels is not None else list(categories)
    n_runs, n_cats = len(runs), len(categories)
    with rc_context(SVG_RC):
        width = max(4.0, min(18.0, 1.0 + n_cats * (0.25 + 0.14 * n_runs)))
        figure = Figure(figsize=(width, 3.6))
        ax = figure.add_subplot()
        group = 0.8
        bar = group / max(n_runs, 1)
        colors = _colors(n_runs)
        gids = _safe_names(runs)
        containers = []
        for r in range(n_runs):
            xs, heights, cats = [], [], []
            for c, category in enumerate(categories):
                value = values[r][c]
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                xs.append(c - group / 2 + bar * (r + 0.5))
                heights.append(value)
                cats.append(category)
            container = ax.bar(xs, heights, width=bar * 0.95, color=colors[r])
            containers.append(container)
            for patch, category in zip(container.patches, cats, strict=True):
                patch.set_gid(f"bar-{gids[r]}-{_safe(category)}")
        ax.set_xticks(range(n_cats))
        ax.set_xticklabels([_text(label) for label in labels], rotation=40, ha="right")
        ax.set_ylabel(_text(metric))
        shown = [v for row in values for v in row if v is not None and not math.isnan(v)]
        top, bottom = max(shown + [0.0]), min(shown + [0.0])  # rescaled BERTScore can be negative
        ax.set_ylim(bottom * 1.05, max(1.0, top * 1.05) if top <= 1 else top * 1.05)
        ax.set_xlim(-0.6, n_cats - 0.4)
        ax.grid(axis="y", linewidth=0.4, alpha=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if n_runs:
            # Labels given explicitly: matplotlib leaves out artists whose label starts with "_".
            ax.legend(
                containers, [_text(run) for run in runs], loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False
            )
        ax.set_title(_text(f"{metric} per category"))
        return _svg(figure)


def heatmap_svg(
    categories: Sequence[str],
    runs: Sequence[str],
    deltas: Sequence[Sequence[float | None]],
    metric: str,
    *,
    reference: str,
    labels: Sequence[str] | None = None,
    marks: Sequence[Sequence[str]] | None = None,
) -> str:
    """Difference to the reference run: one cell per run (rows, the reference left out by
    the caller) and category (columns), ``deltas[run][category]`` = run minus reference; a
    diverging colormap centred at 0; each cell annotated with its value (and ``marks``,
    e.g. significance stars). A None difference is a grey cell marked "n/a"."""
    from matplotlib import colormaps, rc_context
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    labels = list(labels) if labels is not None else list(categories)
    n_runs, n_cats = len(runs), len(categories)
    present = [abs(v) for row in deltas for v in row if v is not None and not math.isnan(v)]
    limit = max(present + [1e-6])
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)
    cmap = colormaps["RdBu"]
    with rc_context(SVG_RC):
        figure = Figure(figsize=(max(4.0, min(18.0, 1.5 + 0.75 * n_cats)), 1.4 + 0.45 * max(n_runs, 1)))
        ax = figure.add_subplot()
        gids = _safe_names(runs)
        for r in range(n_runs):
            for c, category in enumerate(categories):
                value = deltas[r][c]
                missing = value is None or math.isnan(value)
                color = MISSING_COLOR if missing else cmap(norm(value))
                cell = Rectangle((c, r), 1, 1, facecolor=color, edgecolor="white", linewidth=1)
                cell.set_gid(f"cell-{gids[r]}-{_safe(category)}")
                ax.add_patch(cell)
                if missing:
                    text = "n/a"
                    ink = "#555555"
                else:
                    text = f"{value:+.3f}" + (marks[r][c] if marks else "")
                    ink = "white" if abs(norm(value) - 0.5) > 0.3 else "black"
                ax.text(c + 0.5, r + 0.5, text, ha="center", va="center", fontsize=7, color=ink)
        ax.set_xlim(0, max(n_cats, 1))
        ax.set_ylim(max(n_runs, 1), 0)
        ax.set_xticks([c + 0.5 for c in range(n_cats)])
        ax.set_xticklabels([_text(label) for label in labels], rotation=40, ha="right")
        ax.set_yticks([r + 0.5 for r in range(n_runs)])
        ax.set_yticklabels([_text(r) for r in runs])
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        if not n_runs:
            ax.text(0.5, 0.5, "no run besides the reference", ha="center", va="center", transform=ax.transAxes)
        mappable = _scalar_mappable(cmap, norm)
        figure.colorbar(mappable, ax=ax, fraction=0.03, pad=0.02, label=_text(f"{metric} minus {reference}"))
        ax.set_title(_text(f"{metric}: difference to {reference}"))
        return _svg(figure)


def _scalar_mappable(cmap, norm):
    from matplotlib.cm import ScalarMappable

    mappable = ScalarMappable(norm=norm, cmap=cmap)
    mappable.set_array([])
    return mappable


def _colors(n: int) -> list:
    from matplotlib import colormaps

    palette = colormaps["tab10"] if n <= 10 else colormaps["tab20"]
    return [palette(i % palette.N) for i in range(n)]
