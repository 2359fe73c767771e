"""The import and export pages: who may use them, an import through the browser (all or
nothing, the problems listed), and downloads equal to what ``export_gold`` writes."""

import csv
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from annotation.models import Document, Gold, GoldOrigin
from annotation.schema import ELMTEX_KEYS
from annotation.services.exports import GoldFilter, gold_export
from annotation.services.imports import dataset_import
from tests.factories import UserFactory

from .import_helpers import counts, csv_bytes, gold_of, json_array, jsonl, record, success_line, summary

pytestmark = pytest.mark.django_db


def logged_in(client, user):
    client.force_login(user)
    return client


def text_of(response) -> str:
    return response.content.decode()


def import_url(slug="p1") -> str:
    return reverse("dataset-import", args=[slug])


def export_url(slug="p1") -> str:
    return reverse("gold-export", args=[slug])


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def post_import(client, name: str, data: bytes, **options):
    form = {"format": "auto", "language": "en", "split": "none", **options}
    return client.post(import_url(), {"file": upload(name, data), **form})


def downloaded(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def exported_by_service(project, fmt: str, filters: GoldFilter = GoldFilter()) -> str:
    out = io.StringIO()
    gold_export(project=project, out=out, fmt=fmt, filters=filters)
    return out.getvalue()


@pytest.fixture
def staff(db):
    return UserFactory(username="boss", is_staff=True)


@pytest.fixture
def users(researcher, reviewer, annotator, outsider, staff):
    return {
        "researcher": researcher,
        "reviewer": reviewer,
        "annotator": annotator,
        "outsider": outsider,
        "staff": staff,
    }


@pytest.fixture
def loaded(project):
    """Project p1 with gold in two languages and all splits, one adjudicated, one without gold."""
    records = [
        record(i, f'Report {i}: "quoted", with commas;\nand a second line. Übelkeit 🩺', split=split)
        for i, split in enumerate(["train", "val", "test", "none", "train"], start=1)
    ]
    records.append(record(1, "Deutscher Bericht: Übelkeit.", language="de", split="train"))
    records.append(record("PMC-42", "No gold for this one.", with_summary=False))
    dataset_import(project=project, stream=io.BytesIO(jsonl(records)), name="seed.jsonl")
    Gold.objects.filter(document__external_id="2", document__language="en").update(origin=GoldOrigin.ADJUDICATED)
    return project


# --- access -------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_login_page(client, project):
    for response in (
        client.get(import_url()),
        client.post(import_url(), {"file": upload("a.jsonl", jsonl([record(1)]))}),
        client.get(export_url()),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    ("role", "import_status", "export_status"),
    [
        ("outsider", 404, 404),
        ("annotator", 403, 403),
        ("reviewer", 403, 200),
        ("researcher", 200, 200),
        ("staff", 200, 200),
    ],
)
def test_permission_matrix(client, users, role, import_status, export_status):
    client = logged_in(client, users[role])

    import_page = client.get(import_url())
    export = client.get(export_url())

    assert import_page.status_code == import_status
    assert export.status_code == export_status
    if import_status == 404:
        assert "does not exist or you are not a member of it" in text_of(import_page)
    if import_status == 403:
        assert "only the project&#x27;s researchers (and staff) may do this" in text_of(import_page)
    if export_status == 403:
        assert "annotators do not see gold" in text_of(export)


@pytest.mark.parametrize("role", ["annotator", "reviewer", "outsider"])
def test_only_researchers_and_staff_may_post_an_import(client, users, role):
    response = post_import(logged_in(client, users[role]), "a.jsonl", jsonl([record(1)]))

    assert response.status_code in (403, 404)
    assert counts() == (0, 0)


def test_import_needs_the_csrf_token(researcher):
    client = Client(enforce_csrf_checks=True)
    client.force_login(researcher)

    response = post_import(client, "a.jsonl", jsonl([record(1)]))

    assert response.status_code == 403
    assert counts() == (0, 0)


def test_export_answers_get_only(client, researcher, loaded):
    assert logged_in(client, researcher).post(export_url()).status_code == 405


# --- the import page ----------------------------------------------------------------


def test_import_page_explains_the_record_shape(client, researcher):
    page = text_of(logged_in(client, researcher).get(import_url()))

    assert 'enctype="multipart/form-data"' in page
    assert "csrfmiddlewaretoken" in page
    assert "all or nothing" in page
    assert "<code>patient_id</code>" in page and "<code>summary</code>" in page
    assert "patient_id,report," + ",".join(ELMTEX_KEYS) in page  # the CSV header
    assert "metadata" in page
    for option in ("drop_unknown", "update", "format", "language", "split"):
        assert f'name="{option}"' in page
    assert re.search(r'name="language"[^>]*value="en"', page)


def test_json_import_redirects_to_the_project_page_with_the_summary(client, researcher, project):
    client = logged_in(client, researcher)

    response = post_import(client, "cases.json", json_array([record(1), record(2, with_summary=False)]))

    assert response.status_code == 302
    assert response["Location"] == reverse("project-detail", args=["p1"])
    assert counts() == (2, 1)
    page = text_of(client.get(response["Location"]))
    assert f"cases.json: {success_line(new=2)}" in page
    # the message is shown once
    assert success_line(new=2) not in text_of(client.get(reverse("project-detail", args=["p1"])))


def test_csv_import(client, researcher, project):
    data = csv_bytes(["patient_id", "report", "diagnosis"], [["7", "A report, with a comma.", "Pneumonia"]])

    response = post_import(logged_in(client, researcher), "cases.csv", data, split="test")

    assert response.status_code == 302
    doc = Document.objects.get(external_id="7")
    assert (doc.text, doc.split) == ("A report, with a comma.", "test")
    assert gold_of("7")["diagnosis"] == "Pneumonia"
    assert gold_of("7")["gender"] == "N/A"


def test_refused_import_lists_the_problems_and_writes_nothing(client, researcher, project):
    bad = record(2, summary=summary(diagnosis=["a", "list"]))
    data = jsonl([record(1), bad, {"patient_id": 3}])

    response = post_import(logged_in(client, researcher), "bad.jsonl", data, language="de", split="val", update="on")

    page = text_of(response)
    assert response.status_code == 400
    assert counts() == (0, 0)
    assert "nothing was written" in page
    assert "2 problems" in page and "bad.jsonl" in page
    rows = re.findall(
        r"<tr>\s*<td class=\"num\">(\d+)</td>\s*<td class=\"num\">(\d+)</td>\s*<td><code>([^<]+)</code>", page
    )
    assert rows == [("2", "2", "summary.diagnosis"), ("3", "3", "report")]
    assert "expected a string, got a list" in page
    # the chosen options are kept
    assert re.search(r'<option value="val" selected>', page)
    assert re.search(r'name="language"[^>]*value="de"', page)
    assert re.search(r'name="update"[^>]*checked', page)
    assert not re.search(r'name="drop_unknown"[^>]*checked', page)


def test_more_than_twenty_problems_are_cut_short(client, researcher, project):
    data = jsonl([{"patient_id": i} for i in range(1, 26)])

    page = text_of(post_import(logged_in(client, researcher), "many.jsonl", data))

    assert "25 problems" in page
    assert len(re.findall(r'<td class="problem-text">', page)) == 20
    assert "... and 5 more" in page
    assert counts() == (0, 0)


def test_refusal_without_a_record_number(client, researcher, project):
    response = post_import(logged_in(client, researcher), "empty.jsonl", b"")

    assert response.status_code == 400
    assert "no records" in text_of(response)


def test_missing_file_and_bad_language_are_form_errors(client, researcher, project):
    response = logged_in(client, researcher).post(
        import_url(), {"format": "auto", "language": "German", "split": "none"}
    )

    page = text_of(response)
    assert response.status_code == 400
    assert "This field is required." in page
    assert "expected a language code such as" in page
    assert counts() == (0, 0)


def test_language_de_links_translations(client, researcher, project):
    client = logged_in(client, researcher)
    assert post_import(client, "en.jsonl", jsonl([record(1, "English report.")])).status_code == 302

    response = post_import(client, "de.jsonl", jsonl([record(1, "Deutscher Bericht.")]), language="de")

    assert response.status_code == 302
    german = Document.objects.get(external_id="1", language="de")
    assert german.translation_of == Document.objects.get(external_id="1", language="en")


def test_update_replaces_changed_documents_only_when_ticked(client, researcher, project):
    client = logged_in(client, researcher)
    post_import(client, "v1.jsonl", jsonl([record(1, "First version.")]))
    changed = jsonl([record(1, "Second version.")])

    refused = post_import(client, "v2.jsonl", changed)
    assert refused.status_code == 400
    assert "already in the project with different content" in text_of(refused)
    assert "tick the checkbox" in text_of(refused)
    assert Document.objects.get(external_id="1").text == "First version."

    response = post_import(client, "v2.jsonl", changed, update="on")
    assert response.status_code == 302
    assert Document.objects.get(external_id="1").text == "Second version."
    assert success_line(replaced=1) in text_of(client.get(response["Location"]))


def test_drop_unknown(client, researcher, project):
    data = jsonl([record(1, summary=summary(diagnosis="x") | {"mood": "fine"})])
    client = logged_in(client, researcher)

    assert post_import(client, "a.jsonl", data).status_code == 400
    response = post_import(client, "a.jsonl", data, drop_unknown="on")

    assert response.status_code == 302
    assert "mood" not in gold_of(1)


# --- the export download ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
@pytest.mark.parametrize(
    ("params", "filters"),
    [
        ({}, GoldFilter()),
        ({"language": "de"}, GoldFilter(language="de")),
        ({"split": "train", "language": "en"}, GoldFilter(language="en", split="train")),
        ({"only_adjudicated": "1"}, GoldFilter(only_adjudicated=True)),
        ({"language": "fr"}, GoldFilter(language="fr")),
    ],
)
def test_download_equals_what_export_gold_writes(client, reviewer, loaded, fmt, params, filters):
    response = logged_in(client, reviewer).get(export_url(), {"format": fmt, **params})

    assert response.status_code == 200
    assert response.streaming is True
    assert downloaded(response) == exported_by_service(loaded, fmt, filters)


def test_download_holds_the_records(client, researcher, loaded):
    response = logged_in(client, researcher).get(export_url(), {"format": "csv", "split": "train"})

    rows = list(csv.DictReader(io.StringIO(downloaded(response), newline="")))
    assert {(r["patient_id"], r["language"]) for r in rows} == {("1", "en"), ("5", "en"), ("1", "de")}
    assert rows[0]["report"].startswith('Report 1: "quoted", with commas;\nand a second line.')


@pytest.mark.parametrize(
    ("params", "content_type", "filename"),
    [
        ({}, "application/x-ndjson; charset=utf-8", "p1-gold.jsonl"),
        ({"format": "jsonl"}, "application/x-ndjson; charset=utf-8", "p1-gold.jsonl"),
        ({"format": "json", "language": "de"}, "application/json; charset=utf-8", "p1-gold-de.json"),
        ({"format": "csv", "split": "test"}, "text/csv; charset=utf-8", "p1-gold-test.csv"),
        ({"format": "csv", "language": "en", "split": "validation"}, "text/csv; charset=utf-8", "p1-gold-en-val.csv"),
        ({"format": "json", "language": "", "split": "", "only_adjudicated": ""}, None, "p1-gold.json"),
    ],
)
def test_download_headers(client, reviewer, loaded, params, content_type, filename):
    response = logged_in(client, reviewer).get(export_url(), params)

    assert response.status_code == 200
    if content_type:
        assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert "no-store" in response["Cache-Control"]


def test_json_download_parses(client, reviewer, loaded):
    response = logged_in(client, reviewer).get(export_url(), {"format": "json", "only_adjudicated": "on"})

    [only] = json.loads(downloaded(response))
    assert list(only) == ["patient_id", "language", "split", "report", "summary"]
    assert only["patient_id"] == "2"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"format": "xml"}, "format: expected one of jsonl, json, csv, hf, chat, got &#x27;xml&#x27;"),
        ({"split": "holdout"}, "split: expected one of train, val, test, none, got &#x27;holdout&#x27;"),
        ({"language": "German"}, "language: expected a language code such as"),
        ({"only_adjudicated": "maybe"}, "only_adjudicated: expected one of 1, true, on, yes"),
    ],
)
def test_bad_parameters_answer_400_with_the_reason(client, reviewer, loaded, params, message):
    response = logged_in(client, reviewer).get(export_url(), params)

    assert response.status_code == 400
    assert response.streaming is False
    assert message in text_of(response)
    assert "--" not in re.search(r'<p class="lead">(.*?)</p>', text_of(response), re.S).group(1)


# --- the project page ---------------------------------------------------------------


def test_project_page_offers_the_export_box_and_import_to_researchers(client, researcher, loaded):
    page = text_of(logged_in(client, researcher).get(reverse("project-detail", args=["p1"])))

    assert "Export gold" in page
    assert f'action="{export_url()}"' in page and 'method="get"' in page
    assert 'name="only_adjudicated"' in page
    assert '<option value="de">de</option>' in page  # the project's languages
    assert f'href="{import_url()}"' in page


def test_reviewers_see_the_export_box_but_no_import(client, reviewer, loaded):
    page = text_of(logged_in(client, reviewer).get(reverse("project-detail", args=["p1"])))

    assert "Export gold" in page and f'action="{export_url()}"' in page
    assert import_url() not in page


def test_annotators_see_neither_export_nor_import(client, annotator, loaded):
    page = text_of(logged_in(client, annotator).get(reverse("project-detail", args=["p1"])))

    assert "Export gold" not in page
    assert export_url() not in page and import_url() not in page
