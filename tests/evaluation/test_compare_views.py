"""The comparison page, its charts, downloads and API: rights, errors and contents."""

import re
import xml.etree.ElementTree as ET

import pytest

from evaluation.models import ComparisonCache

from .compare_helpers import build_runs

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def evaluated(project):
    return build_runs(project)


@pytest.fixture
def query(evaluated):
    ids = ",".join(str(evaluated[n][0].pk) for n in ("baseline", "finetuned", "advanced"))
    return f"runs={ids}&language=en&split=test"


def test_page_shows_tables_charts_and_configuration(client, researcher, evaluated, query):
    client.force_login(researcher)
    response = client.get(f"/p/p1/reports/compare/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    finetuned = evaluated["finetuned"][1].results
    assert f"{finetuned['overall']['rougeL']:.3f}" in html
    lo, hi = finetuned["categories"]["diagnosis"]["ci"]["rougeL"]
    assert f"[{lo:.3f}, {hi:.3f}]" in html
    assert "Model comparison: overall" in html and "Model comparison per category" in html
    assert "ROUGE-1 per category" in html  # the wide table of the default metric
    assert '<img src="/p/p1/reports/compare/bars.svg?' in html
    assert '<img src="/p/p1/reports/compare/heatmap.svg?' in html
    assert "Entity matcher" in html and "skip gold N/A" in html
    assert f"evaluation {evaluated['advanced'][1].pk}" in html
    for fmt in ("csv", "json", "md", "tex"):
        assert f"format={fmt}" in html
    assert "Refresh" not in response.headers  # the tests were computed in the request
    assert "no correction" in html


def test_page_without_runs_shows_the_form(client, researcher, evaluated):
    client.force_login(researcher)
    response = client.get("/p/p1/reports/compare/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="runs"' in html and "multiple" in html
    assert f'<option value="{evaluated["finetuned"][0].pk}">finetuned' in html


def test_multi_select_and_reference(client, researcher, evaluated):
    client.force_login(researcher)
    baseline, finetuned = evaluated["baseline"][0], evaluated["finetuned"][0]
    url = f"/p/p1/reports/compare/?runs={baseline.pk}&runs={finetuned.pk}&reference=finetuned&split=test&language=en"
    html = client.get(url).content.decode()
    assert "finetuned (ref.)" in html and "baseline (ref.)" not in html


def test_missing_evaluation_is_named_with_its_command(client, researcher, evaluated, api_client):
    """The page lists it (200, with the button: test_compare_missing.py); the API and the
    downloads answer 400."""
    client.force_login(researcher)
    run = evaluated["finetuned"][0]
    response = client.get("/p/p1/reports/compare/?runs=baseline,finetuned&split=val")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<strong>finetuned</strong> ({run.pk})" in html
    assert f"python manage.py evaluate p1 --run {run.pk} --split val" in html
    api_client.force_authenticate(researcher)
    answer = api_client.get("/api/projects/p1/reports/compare/?runs=baseline,finetuned&split=val")
    assert answer.status_code == 400
    assert "'baseline'" in answer.json()["detail"]
    assert len(answer.json()["errors"]) == 2
    unknown = api_client.get("/api/projects/p1/reports/compare/?runs=baseline,ghost")
    assert unknown.status_code == 400 and "'ghost'" in unknown.json()["detail"]
    assert client.get("/p/p1/reports/compare/bars.svg?runs=baseline&split=val").status_code == 400
    assert client.get("/p/p1/reports/compare/?runs=baseline&split=test&language=en&metric=bleu").status_code == 400


def test_downloads(client, researcher, evaluated, query):
    client.force_login(researcher)
    csv = client.get(f"/p/p1/reports/compare/?{query}&format=csv&table=overall")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines()[0].startswith("Run,Average,ROUGE-1,")
    tex = client.get(f"/p/p1/reports/compare/?{query}&format=tex")
    assert tex["Content-Disposition"].endswith('comparison-p1.tex"')
    assert "\\toprule" in tex.content.decode()
    md = client.get(f"/p/p1/reports/compare/?{query}&format=md").content.decode()
    assert "| Category | Run | n |" in md
    assert client.get(f"/p/p1/reports/compare/?{query}&format=xlsx").status_code == 400


def test_api_returns_the_report_and_the_significance_state(api_client, researcher, evaluated, query):
    api_client.force_authenticate(researcher)
    response = api_client.get(f"/api/projects/p1/reports/compare/?{query}")
    assert response.status_code == 200
    data = response.json()
    assert data["kind"] == "comparison"
    assert [t["key"] for t in data["tables"]] == ["overall", "category_rouge1", "categories"]
    assert data["significance"] == {"status": "done", "progress": 1.0, "error": None}
    row = data["tables"][0]["rows"][1]
    value = row["rougeL"]["value"] if isinstance(row["rougeL"], dict) else row["rougeL"]
    assert value == evaluated["finetuned"][1].results["overall"]["rougeL"]
    tex = api_client.get(f"/api/projects/p1/reports/compare/?{query}&format=tex")
    assert tex.status_code == 200 and "\\bottomrule" in tex.content.decode()
    assert api_client.get("/api/projects/p1/reports/compare/").status_code == 400


def test_computing_significance_reloads_the_page(client, researcher, evaluated, query, settings, monkeypatch):
    from evaluation import tasks_comparison

    settings.ELMTEX_COMPARE_INLINE_MAX_ENTRIES = 0
    monkeypatch.setattr(tasks_comparison.comparison_significance_task, "apply_async", lambda **kw: None)
    client.force_login(researcher)
    response = client.get(f"/p/p1/reports/compare/?{query}")
    assert response.status_code == 200
    assert response["Refresh"] == "5"
    html = response.content.decode()
    assert "significance: computing (0%)" in html.lower()
    cache = ComparisonCache.objects.get()
    heatmap_before = re.search(r'src="(/p/p1/reports/compare/heatmap.svg[^"]*)"', html).group(1)
    tasks_comparison.comparison_significance_task(cache.pk)
    response = client.get(f"/p/p1/reports/compare/?{query}")
    assert "Refresh" not in response.headers
    heatmap_after = re.search(r'src="(/p/p1/reports/compare/heatmap.svg[^"]*)"', response.content.decode()).group(1)
    assert heatmap_after != heatmap_before  # the cached chart without markers is not reused


def _ids(svg: str, prefix: str) -> list[str]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return [e.get("id") for e in root.iter() if (e.get("id") or "").startswith(prefix)]


def test_chart_urls_serve_svg(client, researcher, evaluated, query):
    client.force_login(researcher)
    bars = client.get(f"/p/p1/reports/compare/bars.svg?{query}&metric=rougeL")
    assert bars.status_code == 200
    assert bars["Content-Type"] == "image/svg+xml"
    assert "private" in bars["Cache-Control"]
    ids = _ids(bars.content.decode(), "bar-")
    # 13 categories with ROUGE values (n > 0 in every run here) x 3 runs
    categories = [k for k, b in evaluated["baseline"][1].results["categories"].items() if b["rougeL"] is not None]
    assert len(ids) == len(set(ids)) == 3 * len(categories)
    assert "bar-finetuned-diagnosis" in ids
    heatmap = client.get(f"/p/p1/reports/compare/heatmap.svg?{query}&metric=rougeL")
    assert heatmap.status_code == 200 and heatmap["Content-Type"] == "image/svg+xml"
    cells = _ids(heatmap.content.decode(), "cell-")
    assert len(cells) == 2 * len(categories)
    assert not [c for c in cells if c.startswith("cell-baseline-")]


@pytest.mark.parametrize(("who", "status"), [("annotator", 403), ("reviewer", 403), ("outsider", 404)])
def test_refused_to_annotators_reviewers_and_outsiders(client, api_client, evaluated, query, who, status, request):
    user = request.getfixturevalue(who)
    client.force_login(user)
    api_client.force_authenticate(user)
    assert client.get(f"/p/p1/reports/compare/?{query}").status_code == status
    assert client.get("/p/p1/reports/compare/").status_code == status
    assert client.get(f"/p/p1/reports/compare/bars.svg?{query}").status_code == status
    assert client.get(f"/p/p1/reports/compare/heatmap.svg?{query}").status_code == status
    assert api_client.get(f"/api/projects/p1/reports/compare/?{query}").status_code == status


def test_login_required(client, evaluated, query):
    assert client.get(f"/p/p1/reports/compare/?{query}").status_code == 302
    assert client.get(f"/p/p1/reports/compare/bars.svg?{query}").status_code == 302
