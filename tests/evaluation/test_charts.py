"""Comparison charts: valid, deterministic SVG with one bar per run and category and one
heatmap cell per run (reference left out) and category."""

import re
import xml.etree.ElementTree as ET

from evaluation.charts import bars_svg, heatmap_svg

SVG = "{http://www.w3.org/2000/svg}"
CATEGORIES = ["diagnosis", "family_history", "signs_symptoms"]
RUNS = ["baseline", "fine tuned", "advanced"]
VALUES = [[0.5, 0.25, 0.75], [0.6, 0.2, 0.7], [0.4, 0.3, 0.8]]


def _groups(svg: str, prefix: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return {e.get("id"): e for e in root.iter(f"{SVG}g") if (e.get("id") or "").startswith(prefix)}


def test_one_bar_per_run_and_category():
    svg = bars_svg(CATEGORIES, RUNS, VALUES, "ROUGE-L", labels=["Diagnosis", "Family history", "Signs"])
    bars = _groups(svg, "bar-")
    assert sorted(bars) == sorted(f"bar-{r.replace(' ', '_')}-{c}" for r in RUNS for c in CATEGORIES)
    for group in bars.values():
        assert len(list(group.iter(f"{SVG}path"))) == 1  # the bar itself
    assert "Family history" in svg and "fine tuned" in svg  # labels and legend as text


def test_bar_heights_follow_the_values():
    bars = _groups(bars_svg(CATEGORIES, RUNS, VALUES, "ROUGE-L"), "bar-")

    def height(gid):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", bars[gid].find(f"{SVG}path").get("d"))]
        ys = numbers[1::2]  # the path is "M x y L x y L x y L x y z"
        return max(ys) - min(ys)

    assert height("bar-advanced-signs_symptoms") > height("bar-baseline-signs_symptoms")
    ratio = height("bar-baseline-diagnosis") / height("bar-baseline-signs_symptoms")
    assert abs(ratio - 0.5 / 0.75) < 1e-3


def test_missing_value_draws_no_bar():
    bars = _groups(bars_svg(CATEGORIES, RUNS[:2], [[0.5, None, 0.7], VALUES[1]], "Entity F1"), "bar-")
    assert len(bars) == 5 and "bar-baseline-family_history" not in bars


def test_svg_is_deterministic():
    assert bars_svg(CATEGORIES, RUNS, VALUES, "ROUGE-1") == bars_svg(CATEGORIES, RUNS, VALUES, "ROUGE-1")
    args = (CATEGORIES, RUNS[1:], [[0.1, -0.05, None], [-0.1, 0.05, 0.0]], "ROUGE-1")
    assert heatmap_svg(*args, reference="baseline") == heatmap_svg(*args, reference="baseline")
    assert "<dc:date>" not in bars_svg(CATEGORIES, RUNS, VALUES, "ROUGE-1")


def test_heatmap_cells_colours_and_annotations():
    deltas = [[0.1, -0.1, None], [0.0, 0.05, -0.02]]
    svg = heatmap_svg(
        CATEGORIES, RUNS[1:], deltas, "ROUGE-L", reference="baseline", marks=[["*", "", ""], ["", "**", ""]]
    )
    cells = _groups(svg, "cell-")
    assert sorted(cells) == sorted(f"cell-{r.replace(' ', '_')}-{c}" for r in RUNS[1:] for c in CATEGORIES)

    def fill(gid):
        style = cells[gid].find(f"{SVG}path").get("style")
        return next(part.split(":")[1].strip() for part in style.split(";") if part.strip().startswith("fill:"))

    # diverging around 0: +0.1 and -0.1 get different colours, 0 is (near) white, missing is grey
    assert fill("cell-fine_tuned-diagnosis") != fill("cell-fine_tuned-family_history")
    assert fill("cell-advanced-diagnosis").lower() in ("#f7f7f7", "#f6f6f6", "#f7f6f6", "#f6f7f7")
    assert fill("cell-fine_tuned-signs_symptoms") == "#dddddd"
    for text in ("+0.100*", "-0.100", "+0.050**", "n/a", "minus baseline"):
        assert text in svg


def test_heatmap_without_other_runs_is_valid():
    svg = heatmap_svg(CATEGORIES, [], [], "ROUGE-L", reference="baseline")
    assert _groups(svg, "cell-") == {}
    assert "no run besides the reference" in svg


def test_dollar_signs_underscores_and_lookalike_names_are_drawn_as_written():
    """Run names and labels are text, not mathtext; a leading "_" stays in the legend; two
    names that look alike get two ids."""
    runs = ["cost $5 vs $x^$", "_under", "a b", "a_b"]
    svg = bars_svg(
        ["a", "b"], runs, [[0.5, -0.2], [0.3, 0.1], [0.1, 0.2], [0.2, 0.3]], "ROUGE $L$", labels=[r"$\frac$", "b"]
    )
    ET.fromstring(svg)
    for text in ("cost $5 vs $x^$", "_under", r"$\frac$", "ROUGE $L$"):
        assert text in svg
    ids = re.findall(r'id="(bar-[^"]+)"', svg)
    assert len(ids) == len(set(ids)) == 8
    heat = heatmap_svg(["a"], ["x$y$", "a b", "a_b"], [[0.1], [None], [-0.2]], "m$", reference="r$")
    ET.fromstring(heat)
    assert len(set(re.findall(r'id="(cell-[^"]+)"', heat))) == 3


def test_negative_values_stay_inside_the_axes():
    svg = bars_svg(["a"], ["r"], [[-0.4]], "BERTScore F1 (rescaled)")
    ET.fromstring(svg)
    assert "\u22120.4" in svg  # a y tick below zero (matplotlib writes a minus sign)
