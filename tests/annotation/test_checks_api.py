"""Checks through the API, the page and the command: who sees which findings (annotators
only their own annotations'), starting a re-check, the command's output and errors."""

import io
import json

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import reset_generator_stats

from annotation import tasks
from annotation.models import CheckResult
from annotation.schema import ELMTEX_KEYS
from annotation.services.checks import checks_run
from tests.factories import (
    AnnotationFactory,
    AssignmentFactory,
    CandidateFactory,
    DocumentFactory,
    GoldFactory,
    RunFactory,
)

pytestmark = pytest.mark.django_db

TEXT = "A 45-year-old woman presented with fever and cough. She had hypertension."


def values(**kw) -> dict:
    return {k: "N/A" for k in ELMTEX_KEYS} | {"gender": "female"} | kw


@pytest.fixture
def checked(project, annotator, make_member):
    """A document with a finding on gold, a candidate, the annotator's and another's annotation."""
    doc = DocumentFactory(project=project, text=TEXT, external_id="p-1")
    GoldFactory(document=doc, values=values(diagnosis="appendicitis"))
    CandidateFactory(run=RunFactory(project=project, name="r1"), document=doc, values=values(age="54"))
    other = make_member(project, "annotator", "other")
    own = AnnotationFactory(
        assignment=AssignmentFactory(document=doc, annotator=annotator, status="submitted"),
        values=values(gender="woman"),
    )
    theirs = AnnotationFactory(
        assignment=AssignmentFactory(document=doc, annotator=other, status="submitted"),
        values=values(diagnosis="gout"),
    )
    checks_run(project=project)
    return {"doc": doc, "own": own, "theirs": theirs}


# --- API --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["researcher", "reviewer"])
def test_summary_and_list_for_researchers_and_reviewers(api_client, checked, request, who):
    api_client.force_authenticate(request.getfixturevalue(who))
    body = api_client.get("/api/projects/p1/checks/").json()
    summary = {(r["target"], r["code"]): r["findings"] for r in body["summary"]}
    assert summary == {
        ("gold", "not_grounded"): 1,
        ("candidate", "not_grounded"): 1,
        ("annotation", "gender_unexpected"): 1,
        ("annotation", "not_grounded"): 1,
    }
    assert body["count"] == 4
    filtered = api_client.get("/api/projects/p1/checks/", {"target": "annotation", "code": "not_grounded"}).json()
    assert [(r["category"], r["patient_id"]) for r in filtered["results"]] == [("diagnosis", "p-1")]
    by_run = api_client.get("/api/projects/p1/checks/", {"run": "r1"}).json()
    assert [r["category"] for r in by_run["results"]] == ["age"]


def test_bad_filters_are_400_with_the_field(api_client, checked, researcher):
    api_client.force_authenticate(researcher)
    response = api_client.get("/api/projects/p1/checks/", {"target": "drafts"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "target"
    assert api_client.get("/api/projects/p1/checks/", {"run": "nope"}).status_code == 404


def test_annotators_and_outsiders_cannot_see_project_or_document_findings(api_client, checked, annotator, outsider):
    doc = checked["doc"]
    api_client.force_authenticate(annotator)
    assert api_client.get("/api/projects/p1/checks/").status_code == 403
    assert api_client.get(f"/api/projects/p1/documents/{doc.pk}/checks/").status_code == 403
    api_client.force_authenticate(outsider)
    assert api_client.get("/api/projects/p1/checks/").status_code == 404
    assert api_client.get(f"/api/projects/p1/documents/{doc.pk}/checks/").status_code == 404


def test_document_findings_for_reviewers(api_client, checked, reviewer):
    doc, own = checked["doc"], checked["own"]
    api_client.force_authenticate(reviewer)
    body = api_client.get(f"/api/projects/p1/documents/{doc.pk}/checks/").json()
    assert body["findings"]["gold"][str(doc.pk)]["diagnosis"][0]["code"] == "not_grounded"
    assert body["findings"]["annotation"][str(own.pk)]["gender"][0]["code"] == "gender_unexpected"
    assert api_client.get("/api/projects/p1/documents/999999/checks/").status_code == 404


def test_an_annotator_sees_findings_on_their_own_annotation_only(api_client, checked, annotator, reviewer):
    own, theirs = checked["own"], checked["theirs"]
    api_client.force_authenticate(annotator)
    response = api_client.get(f"/api/projects/p1/annotations/{own.pk}/checks/")
    assert response.status_code == 200
    assert response.json()["findings"] == {
        "gender": [
            {
                "code": "gender_unexpected",
                "severity": "warning",
                "message": CheckResult.objects.get(target="annotation", target_id=own.pk).message,
                "details": {},
            }
        ]
    }
    # another annotator's annotation: 404, as if it did not exist
    assert api_client.get(f"/api/projects/p1/annotations/{theirs.pk}/checks/").status_code == 404
    assert api_client.get("/api/projects/p1/annotations/999999/checks/").status_code == 404
    api_client.force_authenticate(reviewer)
    assert api_client.get(f"/api/projects/p1/annotations/{theirs.pk}/checks/").json()["findings"]["diagnosis"]


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.checks_run_task, "apply_async", lambda **kw: calls.append(kw))
    return calls


def test_researchers_start_a_recheck_in_a_worker(api_client, checked, researcher, sent):
    api_client.force_authenticate(researcher)
    response = api_client.post("/api/projects/p1/checks/run/", {"targets": "candidate", "run": "r1"}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["targets"] == ["candidate"] and body["run"] == "r1"
    [call] = sent
    assert call["queue"] == "evaluation" and call["task_id"] == body["task_id"]
    project_id, targets, run_id = call["args"]
    assert targets == ["candidate"] and run_id is not None


def test_the_task_runs_the_checks(project, checked):
    CheckResult.objects.all().delete()
    result = tasks.checks_run_task.run(project.pk, ["gold"], None)
    assert result["findings"] == {"gold": 1}
    assert CheckResult.objects.filter(target="gold").count() == 1


def test_recheck_refusals(api_client, checked, researcher, reviewer, sent, monkeypatch):
    api_client.force_authenticate(reviewer)
    assert api_client.post("/api/projects/p1/checks/run/", {}, format="json").status_code == 403
    api_client.force_authenticate(researcher)
    response = api_client.post("/api/projects/p1/checks/run/", {"targets": ["drafts"]}, format="json")
    assert response.status_code == 400
    assert "choose from gold, candidate, annotation" in response.json()["detail"]

    def down(**kw):
        raise ConnectionError("refused")

    monkeypatch.setattr(tasks.checks_run_task, "apply_async", down)
    response = api_client.post("/api/projects/p1/checks/run/", {}, format="json")
    assert response.status_code == 503
    assert "run_checks" in response.json()["detail"]
    assert sent == []


def test_openapi_has_the_checks_routes(tmp_path):
    reset_generator_stats()
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--file", str(out), stdout=io.StringIO())
    text = out.read_text()
    for path in [
        "/api/projects/{slug}/checks/",
        "/api/projects/{slug}/checks/run/",
        "/api/projects/{slug}/documents/{id}/checks/",
        "/api/projects/{slug}/annotations/{id}/checks/",
    ]:
        assert f"{path}:" in text


# --- page -------------------------------------------------------------------------------------


def test_checks_page_summary_and_filters(client, checked, researcher):
    client.force_login(researcher)
    page = client.get("/p/p1/checks/").content.decode()
    assert "not_grounded" in page and "gender_unexpected" in page
    assert f"/p/p1/documents/{checked['doc'].pk}/" in page  # example document linked
    assert "Run checks" in page
    filtered = client.get("/p/p1/checks/", {"target": "gold"}).content.decode()
    assert "appendicitis" in filtered and "woman" not in filtered.split("Findings")[-1]


def test_checks_page_refuses_annotators_and_hides_run_from_reviewers(client, checked, annotator, reviewer):
    client.force_login(annotator)
    assert client.get("/p/p1/checks/").status_code == 403
    client.force_login(reviewer)
    page = client.get("/p/p1/checks/")
    assert page.status_code == 200 and "Run checks" not in page.content.decode()
    assert client.post("/p/p1/checks/run/").status_code == 403


def test_run_button_queues_and_says_so(client, checked, researcher, sent):
    client.force_login(researcher)
    response = client.post("/p/p1/checks/run/", {"targets": ["gold", "annotation"]}, follow=True)
    assert "Checks of gold, annotation queued" in response.content.decode()
    assert sent[0]["args"][1] == ["gold", "annotation"]


# --- command ----------------------------------------------------------------------------------


def test_run_checks_prints_a_summary(run_cli, checked):
    CheckResult.objects.all().delete()
    result = run_cli("run_checks", "p1")
    assert result.code == 0, result.err
    assert "gold: 1 checked, 1 findings" in result.out
    assert "annotation: 2 checked, 2 findings" in result.out
    assert "not_grounded" in result.out and "gender_unexpected" in result.out
    assert "checked 1 documents of p1" in result.err
    assert CheckResult.objects.count() == 4


def test_run_checks_json_and_target_and_run(run_cli, checked, tmp_path):
    out = tmp_path / "checks.json"
    result = run_cli("run_checks", "p1", "--target", "candidate", "--run", "r1", "--json", str(out))
    assert result.code == 0, result.err
    data = json.loads(out.read_text())
    assert data["targets"] == ["candidate"] and data["run"] == "r1"
    assert data["by_code"] == {"not_grounded": 1}
    stdout = run_cli("run_checks", "p1", "--target", "gold", "--json", "-")
    assert json.loads(stdout.out)["checked"] == {"gold": 1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "project 'nope' does not exist"),
        (["p1", "--target", "drafts"], "choose from gold, candidate, annotation"),
        (["p1", "--run", "missing"], "no run is named 'missing'"),
    ],
)
def test_run_checks_bad_input(run_cli, project, args, message):
    result = run_cli("run_checks", *args)
    assert result.code == 1
    assert result.err_lines[0].startswith("error: ") and message in result.err
    assert "Traceback" not in result.err


def test_field_include_renders_findings_next_to_a_field(checked):
    from django.template.loader import render_to_string

    from annotation.selectors_checks import checks_for_document

    own = checked["own"]
    findings = checks_for_document(document=checked["doc"], targets=("annotation",), annotation_ids=[own.pk])
    html = render_to_string("annotation/checks_field.html", {"findings": findings["annotation"][own.pk]["gender"]})
    assert "severity-warning" in html and "&#x27;woman&#x27; is not one of" in html
    assert render_to_string("annotation/checks_field.html", {"findings": []}).strip() == ""
