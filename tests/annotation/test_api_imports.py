"""API: dataset import uploads (same service and errors as import_dataset)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.models import Document, Gold

pytestmark = pytest.mark.django_db


# --- imports ----------------------------------------------------------------------------

RECORDS = [
    {
        "patient_id": 1,
        "report": "A 40-year-old woman with fever.",
        "summary": {"diagnosis": "influenza"},
        "title": "Case one",
    },
    {"patient_id": "2", "report": "A boy with a broken arm."},
]


def _post_import(client, name: str, content: bytes, **fields):
    data = {"file": SimpleUploadedFile(name, content), **fields}
    return client.post("/api/projects/p1/imports/", data, format="multipart")


def _as_jsonl(records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _as_csv() -> bytes:
    return b'patient_id,report,diagnosis\n1,"A 40-year-old woman\nwith fever.",influenza\n2,A boy.,\n'


@pytest.mark.parametrize(
    "name, content, fmt",
    [
        ("cases.json", json.dumps(RECORDS).encode(), "auto"),
        ("cases.jsonl", _as_jsonl(RECORDS), "auto"),
        ("upload.bin", _as_jsonl(RECORDS), "jsonl"),
        ("cases.csv", _as_csv(), "auto"),
    ],
)
def test_import_success(api_client, project, researcher, name, content, fmt):
    api_client.force_authenticate(researcher)
    response = _post_import(api_client, name, content, format=fmt, split="train")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["new"] == 2 and body["unchanged"] == 0 and body["replaced"] == 0
    assert body["summary"].startswith("imported 2 new, 0 unchanged, 0 replaced")
    docs = {d.external_id: d for d in Document.objects.filter(project=project)}
    assert set(docs) == {"1", "2"} and {d.split for d in docs.values()} == {"train"}
    assert Gold.objects.get(document=docs["1"]).values["diagnosis"] == "influenza"


def test_import_options_language_and_metadata(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    assert _post_import(api_client, "en.json", json.dumps(RECORDS).encode()).status_code == 201
    response = _post_import(api_client, "de.jsonl", _as_jsonl(RECORDS), language="de")
    assert response.status_code == 201, response.content
    en, de = Document.objects.get(external_id="1", language="en"), Document.objects.get(external_id="1", language="de")
    assert de.translation_of == en and en.metadata == {"title": "Case one"}


def test_import_reupload_reports_unchanged(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    content = json.dumps(RECORDS).encode()
    response = _post_import(api_client, "cases.json", content)
    assert response.status_code == 201
    first = response.json()
    assert first["new"] == 2 and first["set_to_na"] > 0
    again = _post_import(api_client, "cases.json", content)
    assert again.status_code == 201
    # The counts describe how the file was read, so they repeat the first upload's.
    assert again.json() | {"summary": None} == {
        "new": 0,
        "unchanged": 2,
        "replaced": 0,
        "set_to_na": first["set_to_na"],
        "dropped": 0,
        "summary": None,
    }
    assert Document.objects.filter(project=project).count() == 2


def test_import_changed_content_needs_update(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    assert _post_import(api_client, "cases.json", json.dumps(RECORDS).encode()).status_code == 201
    changed = json.dumps([RECORDS[0] | {"report": "Changed text."}]).encode()
    refused = _post_import(api_client, "cases.json", changed)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "patient_id" and "--update" in refused.json()["detail"]
    replaced = _post_import(api_client, "cases.json", changed, update="true")
    assert replaced.status_code == 201 and replaced.json()["replaced"] == 1
    assert Document.objects.get(external_id="1").text == "Changed text."


def test_import_refused_lists_problems_and_writes_nothing(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    lines = [
        {"patient_id": "1", "report": "Fine."},
        {"patient_id": "2"},
        {"patient_id": "3", "report": "Fine.", "summary": {"diagnosis": ["a", "b"]}},
        {"patient_id": "4", "report": "Fine.", "summary": {"hobbies": "chess"}},
    ]
    response = _post_import(api_client, "bad.jsonl", _as_jsonl(lines))
    assert response.status_code == 400
    body = response.json()
    assert body["error_count"] == 3 and body["detail"].startswith("import refused, nothing was written")
    located = [(e["record"], e["line"], e["field"]) for e in body["errors"]]
    assert located == [(2, 2, "report"), (3, 3, "summary.diagnosis"), (4, 4, "summary.hobbies")]
    assert body["errors"][1]["file"] == "bad.jsonl"
    assert body["errors"][1]["text"].startswith("bad.jsonl: record 3 (line 3): summary.diagnosis: ")
    assert not Document.objects.exists() and not Gold.objects.exists()


@pytest.mark.parametrize(
    "name, content, fields, field, words",
    [
        ("empty.json", b"", {}, None, "no records"),
        ("obj.json", b'{"patient_id": 1}', {"format": "json"}, None, "expected a JSON array"),
        ("latin1.jsonl", '{"patient_id": 1, "report": "Fräulein"}\n'.encode("latin-1"), {}, None, "UTF-8"),
        ("cases.csv", b"patient_id,report,hobby\n1,x,chess\n", {}, "hobby", "unknown column"),
        ("cases.json", b"[]", {"format": "yaml"}, "format", "valid choice"),
        ("cases.json", b"[]", {"split": "holdout"}, "split", "expected one of"),
    ],
)
def test_import_refused_inputs(api_client, project, researcher, name, content, fields, field, words):
    api_client.force_authenticate(researcher)
    response = _post_import(api_client, name, content, **fields)
    assert response.status_code == 400, response.content
    body = response.json()
    assert words in body["detail"], body
    assert body["errors"][0]["field"] == field
    assert not Document.objects.exists()


def test_import_without_file(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    response = api_client.post("/api/projects/p1/imports/", {"format": "json"}, format="multipart")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "file"


def test_import_of_a_file_spooled_to_disk(api_client, project, researcher, settings):
    # Past FILE_UPLOAD_MAX_MEMORY_SIZE Django keeps the upload in a temporary file; the
    # import must read it from there like a small one.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    records = [{"patient_id": i, "report": f"Case {i}. " + "text " * 50} for i in range(200)]
    api_client.force_authenticate(researcher)
    response = _post_import(api_client, "big.jsonl", _as_jsonl(records))
    assert response.status_code == 201, response.content
    assert response.json()["new"] == 200
