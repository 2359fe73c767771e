"""Report pages and API: who may see them, the downloads (CSV, JSON, Markdown, LaTeX)
carry the same numbers as the JSON, and bad parameters are refused naming them."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils.html import escape

from evaluation.report_tables import report_json
from evaluation.services.agreement import agreement_run
from evaluation.services.report_dataset import dataset_report
from evaluation.services.report_errors import errors_report
from evaluation.views_reports import url_or_none
from tests.factories import UserFactory

from .agreement_helpers import small_agreement_case
from .test_reports_errors import build_case

pytestmark = pytest.mark.django_db

KINDS = ("errors", "agreement", "dataset")
PAGES = ["/p/p1/reports/", *[f"/p/p1/reports/{kind}/" for kind in KINDS]]
APIS = ["/api/projects/p1/reports/", *[f"/api/projects/p1/reports/{kind}/" for kind in KINDS]]


@pytest.fixture
def case(project, make_member):
    return build_case(project, make_member)


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize(
    ("role", "expected"),
    [("researcher", 200), ("staff", 200), ("reviewer", 403), ("annotator", 403), ("outsider", 404)],
)
def test_who_may_open_the_pages(client, project, make_member, url, role, expected):
    if role == "staff":
        user = UserFactory(username="boss", is_staff=True)
    elif role == "outsider":
        user = UserFactory(username="stranger")
    else:
        user = make_member(project, role)
    client.force_login(user)
    assert client.get(url).status_code == expected
    assert client.get(url, {"format": "csv"}).status_code == expected


@pytest.mark.parametrize("url", APIS)
@pytest.mark.parametrize(
    ("role", "expected"),
    [("researcher", 200), ("staff", 200), ("reviewer", 403), ("annotator", 403), ("outsider", 404)],
)
def test_who_may_call_the_api(api_client, project, make_member, url, role, expected):
    if role == "staff":
        user = UserFactory(username="boss", is_staff=True)
    elif role == "outsider":
        user = UserFactory(username="stranger")
    else:
        user = make_member(project, role)
    api_client.force_authenticate(user)
    response = api_client.get(url)
    assert response.status_code == expected
    if expected != 200:
        assert "detail" in response.json()


def test_login_required(client, api_client, project):
    for url in PAGES:
        assert client.get(url).status_code == 302
    for url in APIS:
        assert api_client.get(url).status_code == 401


def test_hub_links_the_reports(client, project, researcher):
    client.force_login(researcher)
    body = client.get(PAGES[0]).content.decode()
    for kind in KINDS:
        assert f'href="/p/p1/reports/{kind}/"' in body
    assert reverse("agreement-list", args=["p1"]) in body
    for name in ("report-compare", "export-list"):
        url = url_or_none(name, "p1")
        if url:  # provided by other parts of the platform
            assert f'href="{url}"' in body


def test_api_list_names_page_and_api_urls(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    listed = {entry["kind"]: entry for entry in api_client.get(APIS[0]).json()}
    for kind in KINDS:
        assert listed[kind]["page_url"] == f"/p/p1/reports/{kind}/"
        assert listed[kind]["api_url"] == f"/api/projects/p1/reports/{kind}/"


def test_api_json_is_the_report(api_client, project, researcher, case):
    api_client.force_authenticate(researcher)
    body = api_client.get(APIS[1]).json()
    expected = report_json(errors_report(project=project))
    body["meta"].pop("generated_at"), expected["meta"].pop("generated_at")
    assert body == expected
    assert [t["key"] for t in body["tables"]] == ["judgements", "checks", "examples"]
    assert body["tables"][0]["rows"], "the case has judgements"
    assert api_client.get(APIS[1], {"format": "json"}).json()["kind"] == "errors"


def test_errors_page_shows_tables_links_and_downloads(client, project, researcher, case):
    client.force_login(researcher)
    response = client.get(PAGES[1], {"language": "en"})
    body = response.content.decode()
    assert response.status_code == 200
    for table in errors_report(project=project).tables:
        assert f"<h2>{escape(table.title)}</h2>" in body
    example = next(r for r in errors_report(project=project, language="en").table("examples").rows)
    assert f'href="{reverse("document-detail", args=["p1", example["example_1"].value])}"' in body
    for fmt in ("csv", "json", "md", "tex"):
        assert f"format={fmt}" in body
    assert "language=en" in body.split("format=csv")[0].rsplit("href", 1)[-1]


def _csv_tables(text: str) -> dict[str, list[list[str]]]:
    """The multi-table CSV download: ``# title`` line, then the table, blank line between."""
    tables, title = {}, None
    for block in text.split("\n# "):
        title, _, body = block.lstrip("# ").partition("\n")
        tables[title] = list(csv.reader(io.StringIO(body)))
    return tables


@pytest.mark.parametrize("surface", ["page", "api"])
def test_csv_equals_the_json_numbers(client, api_client, project, researcher, case, surface):
    api_client.force_authenticate(researcher)
    client.force_login(researcher)
    data = api_client.get(APIS[1]).json()
    http = client if surface == "page" else api_client
    url = PAGES[1] if surface == "page" else APIS[1]
    response = http.get(url, {"format": "csv", "table": "judgements"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "p1-errors.csv" in response["Content-Disposition"]
    table = next(t for t in data["tables"] if t["key"] == "judgements")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == len(table["rows"]) > 0
    labels = {c["key"]: c["label"] for c in table["columns"]}
    for line, row in zip(rows, table["rows"], strict=True):
        assert line[labels["run"]] == row["run"]
        assert line[labels["category"]] == row["category"]
        for key in ("judged", "correct", "missing", "hallucinated", "wrong_category", "partially_correct"):
            assert int(line[labels[key]]) == row[key]
        assert float(line[labels["error_rate"]]) == pytest.approx(row["error_rate"])
    # Without table=: every table, each after its title.
    whole = http.get(url, {"format": "csv"}).content.decode()
    tables = _csv_tables(whole)
    assert set(tables) == {t["title"] for t in data["tables"]}
    for t in data["tables"]:
        assert len(tables[t["title"]]) == 1 + len(t["rows"])


def test_markdown_has_one_row_per_table_row(client, project, researcher, case):
    client.force_login(researcher)
    text = client.get(PAGES[1], {"format": "md"}).content.decode()
    report = errors_report(project=project)
    table_lines = [line for line in text.splitlines() if line.startswith("|")]
    # Per table: header, alignment row, then the rows.
    assert len(table_lines) == sum(2 + len(t.rows) for t in report.tables)
    assert text.count("### ") == len(report.tables)
    first = report.table("judgements").rows[0]
    assert f"| {first['run']} | {first['run_id']} | {first['category']} | {first['judged']} |" in text


def test_latex_is_booktabs_with_escaped_underscores(client, project, researcher, case):
    client.force_login(researcher)
    response = client.get(PAGES[1], {"format": "tex"})
    text = response.content.decode()
    assert response["Content-Type"].startswith("application/x-tex")
    for rule in ("\\toprule", "\\midrule", "\\bottomrule"):
        assert text.count(rule) == 3
    assert "signs\\_symptoms" in text and "life\\_style" in text
    assert "signs_symptoms" not in text.replace("signs\\_symptoms", "")


def test_dataset_and_agreement_downloads(client, project, researcher, make_member):
    small_agreement_case(project, make_member)
    agreement_run(project=project)
    client.force_login(researcher)
    for kind in ("agreement", "dataset"):
        for fmt in ("csv", "json", "md", "tex"):
            response = client.get(f"/p/p1/reports/{kind}/", {"format": fmt})
            assert response.status_code == 200, (kind, fmt)
            assert f"p1-{kind}.{fmt}" in response["Content-Disposition"]
    text = client.get("/p/p1/reports/dataset/", {"format": "csv", "table": "documents"}).content.decode()
    rows = {row["Language"]: row for row in csv.DictReader(io.StringIO(text))}
    expected = {row["language"]: row for row in dataset_report(project=project).table("documents").rows}
    assert {k: int(v["Total"]) for k, v in rows.items()} == {k: v["total"] for k, v in expected.items()}
    page = client.get("/p/p1/reports/agreement/").content.decode()
    assert "From <a" in page and "agreement report" in page


@pytest.mark.parametrize(
    ("url", "params", "name"),
    [
        ("errors/", {"runs": "999"}, "runs"),
        ("errors/", {"runs": "no-such-run"}, "runs"),
        ("errors/", {"runs": "9" * 30}, "runs"),
        ("errors/", {"split": "bogus"}, "split"),
        ("errors/", {"language": "xx"}, "language"),
        ("agreement/", {"split": "bogus"}, "split"),
        ("dataset/", {"format": "pdf"}, "format"),
        ("errors/", {"format": "csv", "table": "nope"}, "table"),
    ],
)
def test_bad_parameters_answer_400_naming_them(client, api_client, project, researcher, case, url, params, name):
    api_client.force_authenticate(researcher)
    response = api_client.get(f"/api/projects/p1/reports/{url}", params)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{name}:")
    client.force_login(researcher)
    page = client.get(f"/p/p1/reports/{url}", params)
    assert page.status_code == 400
    assert f"{name}:" in page.content.decode()
    assert "Traceback" not in page.content.decode()


def test_run_selection_on_the_page_and_api(client, api_client, project, researcher, case):
    baseline, finetuned = case["runs"]
    api_client.force_authenticate(researcher)
    body = api_client.get(APIS[1], {"runs": f"{finetuned.pk}"}).json()
    assert body["meta"]["run_ids"] == [finetuned.pk]
    assert {row["run"] for row in body["tables"][0]["rows"]} == {"finetuned"}
    # A multi-select sends runs=1&runs=2; names work too.
    body = api_client.get(f"{APIS[1]}?runs={baseline.pk}&runs=finetuned").json()
    assert body["meta"]["run_ids"] == [baseline.pk, finetuned.pk]
    client.force_login(researcher)
    page = client.get(f"{PAGES[1]}?runs={baseline.pk}").content.decode()
    assert f'<option value="{baseline.pk}" selected>' in page
