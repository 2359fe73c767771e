"""Gold export jobs: created over the API or the page, written by the worker's service
(called in-process here), downloaded as the same bytes ``export_gold`` writes."""

import io
import json
import logging
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from annotation import tasks_exports
from annotation.models import ExportJob, ExportStatus
from annotation.services import export_jobs, exports
from annotation.services.export_jobs import export_job_create, export_job_process
from elmtex_site.celery import app
from elmtex_site.errors import ApplicationError
from elmtex_site.logs import IdsOnlyFormatter
from tests.factories import DocumentFactory, GoldFactory

pytestmark = pytest.mark.django_db

SECRET = "Mrs Secretpatient, 81, collapsed at home"


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.ELMTEX_EXPORT_DIR = str(tmp_path / "exports")
    return Path(settings.ELMTEX_EXPORT_DIR)


@pytest.fixture
def sent(monkeypatch):
    """Tasks sent to the broker (none reaches a real one)."""
    calls = []
    monkeypatch.setattr(tasks_exports.export_run_task, "apply_async", lambda **kw: calls.append(kw))
    return calls


@pytest.fixture
def gold(project):
    """Six documents with gold (en and de, train and test; two adjudicated) and one without."""
    docs = []
    for i in range(1, 7):
        doc = DocumentFactory(
            project=project,
            external_id=str(i),
            language="en" if i <= 4 else "de",
            split="train" if i % 2 else "test",
            text=f'Case {i}: fever, cough; "quoted", and a comma.',
        )
        origin = "adjudicated" if i in (2, 5) else "imported"
        GoldFactory(document=doc, values={"diagnosis": f"Diagnosis {i}; flu", "gender": "female"}, origin=origin)
        docs.append(doc)
    DocumentFactory(project=project, external_id="99")
    return docs


def create_api(api_client, user, **body):
    api_client.force_authenticate(user)
    return api_client.post(reverse("api-export-list", args=["p1"]), body, format="json")


def cli_bytes(run_cli, tmp_path, *flags) -> bytes:
    out = tmp_path / "cli.out"
    result = run_cli("export_gold", "p1", "--out", str(out), *flags)
    assert result.code == 0, result.err
    return out.read_bytes()


@pytest.mark.parametrize(
    ("body", "flags"),
    [
        ({"format": "jsonl"}, []),
        ({"format": "json", "language": "en"}, ["--format", "json", "--language", "en"]),
        ({"format": "csv", "split": "train"}, ["--format", "csv", "--split", "train"]),
        ({"format": "chat", "split": "test"}, ["--format", "chat", "--split", "test"]),
        ({"format": "jsonl", "only_adjudicated": True}, ["--only-adjudicated"]),
    ],
)
def test_download_equals_export_gold(
    api_client, researcher, gold, sent, run_cli, tmp_path, django_capture_on_commit_callbacks, body, flags
):
    with django_capture_on_commit_callbacks(execute=True):
        response = create_api(api_client, researcher, **body)
    assert response.status_code == 202, response.json()
    data = response.json()
    assert data["status"] == "queued"
    assert data["download_url"] is None
    assert sent == [{"args": [data["id"]], "queue": "evaluation"}]

    export_job_process(job_id=data["id"])

    detail = api_client.get(reverse("api-export-detail", args=["p1", data["id"]])).json()
    assert detail["status"] == "done", detail["error"]
    expected = cli_bytes(run_cli, tmp_path, *flags)
    records = 2 if body.get("only_adjudicated") else {"jsonl": 6, "json": 4, "csv": 3, "chat": 3}[body["format"]]
    assert detail["progress"] == {"done": records, "total": records, "percent": 100.0}
    assert detail["manifest"]["records"] == records
    assert detail["manifest"]["download"]["bytes"] == len(expected) == detail["file_bytes"]
    assert detail["download_url"].endswith(f"/api/projects/p1/exports/{data['id']}/download/")

    download = api_client.get(detail["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == expected
    assert "attachment" in download["Content-Disposition"]
    assert detail["file_name"] in download["Content-Disposition"]

    # The page's download gives the same file.
    api_client.force_authenticate(None)
    api_client.force_login(researcher)
    page = api_client.get(reverse("export-download", args=["p1", data["id"]]))
    assert page.status_code == 200
    assert b"".join(page.streaming_content) == expected


def test_job_file_lies_under_the_export_dir(project, researcher, gold, sent, export_dir):
    job = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    export_job_process(job_id=job.pk)
    job.refresh_from_db()
    assert job.file_path == f"p1/{job.pk}/{job.file_name}"
    assert (export_dir / job.file_path).is_file()
    assert job.started_at is not None and job.finished_at is not None
    assert job.manifest["files"][0]["sha256"] == job.manifest["download"]["sha256"]


def test_hf_download_is_a_zip_holding_the_folder(api_client, researcher, project, gold, sent, export_dir):
    job = export_job_create(project=project, user=researcher, fmt="hf", options={"language": "en"})
    export_job_process(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    assert job.file_name.endswith(".zip")
    api_client.force_authenticate(researcher)
    response = api_client.get(reverse("api-export-download", args=["p1", job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    folder = job.file_name.removesuffix(".zip")
    assert all(name.startswith(folder + "/") for name in names)
    assert f"{folder}/README.md" in names
    data_files = [n for n in names if n.startswith(f"{folder}/data/") and n.endswith(".jsonl")]
    records = [json.loads(line) for n in data_files for line in archive.read(n).decode().splitlines()]
    assert sorted(r["patient_id"] for r in records) == ["1", "2", "3", "4"]
    # Every file of the manifest is in the zip with the bytes the manifest names.
    for entry in job.manifest["files"]:
        assert len(archive.read(f"{folder}/{entry['path']}")) == entry["bytes"]
    # Only the zip stays on disk.
    assert [p.name for p in (export_dir / "p1" / str(job.pk)).iterdir()] == [job.file_name]


def test_progress_is_written_while_running(project, researcher, gold, sent, monkeypatch):
    real = exports.gold_export_write
    seen = {}

    def observed(**kwargs):
        kwargs["progress"](2, 6)
        job = ExportJob.objects.get(project=project)
        seen.update(status=job.status, done=job.progress_done, total=job.progress_total)
        kwargs["progress"](3, 6)  # within the second: not written
        seen["after"] = ExportJob.objects.get(project=project).progress_done
        return real(**kwargs)

    monkeypatch.setattr(exports, "gold_export_write", observed)
    job = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    assert (job.progress_done, job.progress_total) == (0, 0)
    export_job_process(job_id=job.pk)
    assert seen == {"status": "running", "done": 2, "total": 6, "after": 2}
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.progress_total) == ("done", 6, 6)


def test_an_unexpected_failure_is_stored_without_patient_text(
    api_client, project, researcher, gold, sent, monkeypatch, caplog, export_dir
):
    def broken(**kwargs):
        Path(kwargs["out"]).write_text("half a file")
        raise RuntimeError(SECRET)

    monkeypatch.setattr(exports, "gold_export_write", broken)
    job = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    with caplog.at_level(logging.INFO):
        export_job_process(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert job.error == "unexpected failure (RuntimeError); the log has the details"
    assert job.file_path == ""
    # The messages carry ids only; the traceback, formatted as the log handlers do, no text.
    assert caplog.records
    assert all("Secretpatient" not in r.getMessage() for r in caplog.records)
    assert all("Secretpatient" not in IdsOnlyFormatter("%(message)s").format(r) for r in caplog.records)
    assert not (export_dir / "p1" / str(job.pk)).exists()  # the half-written file is gone

    api_client.force_authenticate(researcher)
    detail = api_client.get(reverse("api-export-detail", args=["p1", job.pk])).json()
    assert detail["status"] == "failed"
    assert "Traceback" not in json.dumps(detail)
    download = api_client.get(reverse("api-export-download", args=["p1", job.pk]))
    assert download.status_code == 409
    assert "failed" in download.json()["detail"]


def test_a_refusal_in_the_worker_stores_its_message(project, researcher, gold, sent, monkeypatch):
    def refused(**kwargs):
        raise ApplicationError("tokenizer: the folder /models/x has no chat template")

    monkeypatch.setattr(exports, "gold_export_write", refused)
    job = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    export_job_process(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "tokenizer: the folder /models/x has no chat template")


def test_a_job_is_processed_once(project, researcher, gold, sent, monkeypatch):
    job = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    export_job_process(job_id=job.pk)
    first = ExportJob.objects.get(pk=job.pk)

    def never(**kwargs):
        raise AssertionError("a done job is written again")

    monkeypatch.setattr(exports, "gold_export_write", never)
    export_job_process(job_id=job.pk)
    again = ExportJob.objects.get(pk=job.pk)
    assert (again.status, again.finished_at, again.file_path) == ("done", first.finished_at, first.file_path)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"format": "xml"}, "format", '"xml" is not a valid choice'),
        ({"split": "holdout"}, "split", "expected one of"),
        ({"language": "english please"}, "language", "expected a language code"),
        ({"min_agreement": 1.5}, "min_agreement", "expected a number from 0 to 1"),
        ({"max_tokens": 100}, "max_tokens", "only for format chat"),
        ({"format": "chat", "max_tokens": 100}, "max_tokens", "needs tokenizer"),
        ({"format": "chat", "max_tokens": 0}, "max_tokens", "greater than or equal to 1"),
        ({"format": "csv", "with_metadata": True}, "with_metadata", "not available for csv"),
        ({"format": "chat", "tokenizer": "/nonexistent/tokenizer"}, "tokenizer", "/nonexistent/tokenizer"),
        ({"format": "chat", "prompt_run": "no-such-run"}, "prompt_run", "no run is named 'no-such-run'"),
    ],
)
def test_bad_options_are_refused_naming_the_field(api_client, researcher, gold, sent, body, field, message):
    response = create_api(api_client, researcher, **body)
    assert response.status_code == 400, response.json()
    problems = response.json()["errors"]
    assert problems[0]["field"] == field
    assert message in problems[0]["message"]
    assert not ExportJob.objects.exists()
    assert sent == []


def test_the_service_refuses_unknown_options(project, researcher):
    with pytest.raises(ApplicationError, match="options: unknown option"):
        export_job_create(project=project, user=researcher, fmt="jsonl", options={"limit": 3})
    assert not ExportJob.objects.exists()


def test_an_unreachable_broker_fails_the_job(
    api_client, researcher, gold, monkeypatch, django_capture_on_commit_callbacks
):
    def down(**kwargs):
        raise ConnectionRefusedError("redis is not running")

    monkeypatch.setattr(tasks_exports.export_run_task, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        response = create_api(api_client, researcher, format="jsonl")
    assert response.status_code == 202
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.FAILED
    assert "task broker (CELERY_BROKER_URL) could not be reached" in job.error


def test_download_while_queued_is_a_conflict(api_client, researcher, gold, sent):
    job_id = create_api(api_client, researcher).json()["id"]
    response = api_client.get(reverse("api-export-download", args=["p1", job_id]))
    assert response.status_code == 409
    assert response.json()["detail"] == f"export {job_id} is queued; download it when it is done"
    api_client.force_authenticate(None)
    api_client.force_login(researcher)
    assert api_client.get(reverse("export-download", args=["p1", job_id])).status_code == 409


def test_list_shows_the_projects_jobs(api_client, researcher, project, gold, sent):
    from tests.factories import MembershipFactory, ProjectFactory

    other = ProjectFactory(slug="p2")
    MembershipFactory(project=other, user=researcher, role="researcher")
    export_job_create(project=other, user=researcher, fmt="jsonl", options={})
    first = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    second = export_job_create(project=project, user=researcher, fmt="csv", options={"split": "train"})
    api_client.force_authenticate(researcher)
    data = api_client.get(reverse("api-export-list", args=["p1"])).json()
    assert [job["id"] for job in data["results"]] == [second.pk, first.pk]
    assert data["results"][0]["options"]["split"] == "train"
    assert data["results"][0]["created_by"] == "res"


def test_delete_removes_the_job_and_its_file(api_client, project, researcher, gold, sent, export_dir):
    job = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    export_job_process(job_id=job.pk)
    job.refresh_from_db()
    path = export_dir / job.file_path
    assert path.is_file()
    api_client.force_authenticate(researcher)
    response = api_client.delete(reverse("api-export-detail", args=["p1", job.pk]))
    assert response.status_code == 204
    assert not ExportJob.objects.filter(pk=job.pk).exists()
    assert not path.exists()
    assert not path.parent.exists()


def test_a_job_deleted_while_running_leaves_no_files(project, researcher, gold, sent, monkeypatch, export_dir):
    real = exports.gold_export_write

    def deleted_meanwhile(**kwargs):
        result = real(**kwargs)
        ExportJob.objects.filter(project=project).delete()
        return result

    monkeypatch.setattr(exports, "gold_export_write", deleted_meanwhile)
    job = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    export_job_process(job_id=job.pk)
    assert not (export_dir / "p1" / str(job.pk)).exists()


def test_the_task_is_registered_on_the_evaluation_queue():
    app.loader.import_default_modules()
    assert app.tasks["annotation.export_run"].queue == "evaluation"


def test_the_task_calls_the_service(project, researcher, gold, sent):
    job = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    tasks_exports.export_run_task(job.pk)  # as a worker runs it, in-process
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE


def test_progress_percent(project, researcher, sent):
    job = ExportJob(project=project, status=ExportStatus.RUNNING, progress_done=1, progress_total=3)
    assert export_jobs.export_job_progress(job) == {"done": 1, "total": 3, "percent": 33.3}
    job.progress_total = 0
    assert export_jobs.export_job_progress(job)["percent"] is None
