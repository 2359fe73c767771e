"""Export jobs whose worker died: a running job without progress shows as stalled, can be
retried (page and API) or is taken over by a redelivered message, and a worker taken for
dead that wakes up stores nothing. Who may retry."""

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from annotation import tasks_exports
from annotation.models import ExportJob, ExportStatus
from annotation.services import exports
from annotation.services.export_jobs import export_job_create, export_job_process
from annotation.services.export_jobs_upkeep import export_job_retry, export_job_status_effective
from elmtex_site.errors import ApplicationError
from tests.factories import DocumentFactory, GoldFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("export_dir", "sent")]


@pytest.fixture
def gold(project):
    for i in range(1, 5):
        GoldFactory(document=DocumentFactory(project=project, external_id=str(i), split="train"))


def running_job(project, *, heartbeat_ago: timedelta | None, started_ago=timedelta(minutes=20), **fields):
    now = timezone.now()
    return ExportJob.objects.create(
        project=project,
        format="jsonl",
        options={},
        status=ExportStatus.RUNNING,
        started_at=now - started_ago,
        heartbeat_at=None if heartbeat_ago is None else now - heartbeat_ago,
        progress_done=2,
        progress_total=4,
        **fields,
    )


def detail_api(api_client, job):
    return api_client.get(reverse("api-export-detail", args=["p1", job.pk])).json()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- stalled ----------------------------------------------------------------------------


def test_a_running_job_without_recent_progress_is_stalled(api_client, client, researcher, project, settings):
    stalled = running_job(project, heartbeat_ago=timedelta(minutes=6))
    fresh = running_job(project, heartbeat_ago=timedelta(seconds=30))
    api_client.force_authenticate(researcher)

    data = detail_api(api_client, stalled)
    assert data["status"] == "stalled"
    assert "no worker has written progress for 36" in data["reason"]  # 360 s (and a few ms)
    assert "celery -A elmtex_site worker" in data["reason"]
    assert data["retry_url"].endswith(f"/api/projects/p1/exports/{stalled.pk}/retry/")
    assert data["download_url"] is None
    assert ExportJob.objects.get(pk=stalled.pk).status == "running"  # derived, never stored

    data = detail_api(api_client, fresh)
    assert (data["status"], data["reason"], data["retry_url"]) == ("running", "", None)

    # The list page shows it stalled, with a Retry button, and does not reload for it.
    fresh.delete()
    client.force_login(researcher)
    page = client.get(reverse("export-list", args=["p1"]))
    text = page.content.decode()
    assert '<span class="badge">stalled</span>' in text
    assert 'name="action" value="retry"' in text
    assert "Refresh" not in page
    detail = client.get(reverse("export-detail", args=["p1", stalled.pk])).content.decode()
    assert "Stalled:" in detail and ">Retry</button>" in detail

    # A longer stall time makes it running again.
    settings.ELMTEX_EXPORT_STALL_SECONDS = 600
    assert detail_api(api_client, stalled)["status"] == "running"


def test_without_a_heartbeat_the_start_counts(project):
    job = running_job(project, heartbeat_ago=None, started_ago=timedelta(minutes=10))
    assert export_job_status_effective(job) == "stalled"
    job = running_job(project, heartbeat_ago=None, started_ago=timedelta(minutes=1))
    assert export_job_status_effective(job) == "running"


def test_every_progress_write_is_a_heartbeat(project, researcher, gold, monkeypatch):
    real = exports.gold_export_write
    seen = []

    def observed(**kwargs):
        job = ExportJob.objects.get(project=project)
        seen.append(job.heartbeat_at)  # the claim's
        long_ago = timezone.now() - timedelta(hours=1)
        ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=long_ago)
        kwargs["progress"](1, 4)  # a new total: written at once
        seen.append(ExportJob.objects.get(pk=job.pk).heartbeat_at - long_ago)
        return real(**kwargs)

    monkeypatch.setattr(exports, "gold_export_write", observed)
    job = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    assert job.heartbeat_at is None
    export_job_process(job_id=job.pk)
    claimed, moved = seen
    assert claimed is not None
    assert moved > timedelta(minutes=59)
    job.refresh_from_db()
    assert job.status == "done" and job.heartbeat_at >= job.started_at


# --- retry ------------------------------------------------------------------------------


def test_retry_a_stalled_job_over_the_api(
    api_client, researcher, project, gold, sent, export_dir, django_capture_on_commit_callbacks, run_cli, tmp_path
):
    job = running_job(project, heartbeat_ago=timedelta(minutes=10), error="")
    partial = export_dir / "p1" / str(job.pk) / ".attempt-dead" / "half.jsonl"
    partial.parent.mkdir(parents=True)
    partial.write_text("half a file")
    api_client.force_authenticate(researcher)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(reverse("api-export-retry", args=["p1", job.pk]))
    assert response.status_code == 202, response.json()
    data = response.json()
    assert data["status"] == "queued"
    assert data["progress"] == {"done": 0, "total": 0, "percent": None}
    assert (data["started_at"], data["heartbeat_at"], data["retry_url"]) == (None, None, None)
    assert sent == [{"args": [job.pk], "queue": "evaluation"}]
    assert not (export_dir / "p1" / str(job.pk)).exists()  # the partial files went first

    export_job_process(job_id=job.pk)
    data = detail_api(api_client, job)
    assert data["status"] == "done", data["error"]
    out = tmp_path / "cli.jsonl"
    assert run_cli("export_gold", "p1", "--out", str(out)).code == 0
    download = api_client.get(data["download_url"])
    assert b"".join(download.streaming_content) == out.read_bytes()


def test_retry_a_failed_job_from_the_list_page(
    client, researcher, project, gold, sent, export_dir, django_capture_on_commit_callbacks
):
    job = ExportJob.objects.create(
        project=project, format="csv", options={"split": "train"}, status=ExportStatus.FAILED, error="out of disk"
    )
    client.force_login(researcher)
    page = client.get(reverse("export-list", args=["p1"])).content.decode()
    assert "out of disk" in page and ">Retry</button>" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("export-detail", args=["p1", job.pk]), {"action": "retry", "next": "list"})
    assert response.status_code == 302
    assert response["Location"] == reverse("export-list", args=["p1"])
    job.refresh_from_db()
    assert (job.status, job.error, job.options["split"]) == ("queued", "", "train")
    assert len(sent) == 1
    page = client.get(reverse("export-list", args=["p1"]))
    assert f"Export {job.pk} queued again".encode() in page.content

    export_job_process(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done" and (export_dir / job.file_path).is_file()


def test_retry_when_the_broker_is_down_fails_the_job_again(
    api_client, researcher, project, monkeypatch, django_capture_on_commit_callbacks
):
    def down(**kwargs):
        raise ConnectionRefusedError("redis is not running")

    monkeypatch.setattr(tasks_exports.export_run_task, "apply_async", down)
    job = ExportJob.objects.create(project=project, format="jsonl", status=ExportStatus.FAILED, error="x")
    api_client.force_authenticate(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(reverse("api-export-retry", args=["p1", job.pk]))
    assert response.status_code == 202
    job.refresh_from_db()
    assert job.status == "failed" and "task broker (CELERY_BROKER_URL) could not be reached" in job.error


@pytest.mark.parametrize(
    ("state", "hint"),
    [
        ("done", "download its file, or start a new export"),
        ("queued", "it waits for a worker"),
        ("running", "wait for it"),
    ],
)
def test_retry_is_refused_unless_failed_or_stalled(
    api_client, client, researcher, project, gold, sent, export_dir, django_capture_on_commit_callbacks, state, hint
):
    job = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    if state == "done":
        export_job_process(job_id=job.pk)
    elif state == "running":
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
        )
    before = ExportJob.objects.values().get(pk=job.pk)
    api_client.force_authenticate(researcher)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(reverse("api-export-retry", args=["p1", job.pk]))
    assert response.status_code == 409
    body = response.json()
    assert body["detail"].startswith(f"export {job.pk} is {state}; only a failed or stalled export can be retried")
    assert hint in body["detail"]
    assert body["errors"][0]["field"] == "status"

    client.force_login(researcher)
    page = client.post(reverse("export-detail", args=["p1", job.pk]), {"action": "retry"})
    assert page.status_code == 409
    assert b"only a failed or stalled export can be retried" in page.content

    assert ExportJob.objects.values().get(pk=job.pk) == before  # nothing changed
    assert sent == []
    if state == "done":
        assert (export_dir / before["file_path"]).is_file()


def test_retry_of_an_unknown_job_is_404(api_client, researcher, project):
    api_client.force_authenticate(researcher)
    assert api_client.post(reverse("api-export-retry", args=["p1", 999])).status_code == 404


def test_the_page_names_the_actions_it_knows(client, researcher, project):
    job = ExportJob.objects.create(project=project, format="jsonl", status=ExportStatus.FAILED)
    client.force_login(researcher)
    response = client.post(reverse("export-detail", args=["p1", job.pk]), {"action": "rerun"})
    assert response.status_code == 400
    assert b"action: expected delete or retry" in response.content


# --- a redelivered message, a worker that wakes up ---------------------------------------


def test_a_redelivered_message_takes_over_a_stalled_job(project, gold, export_dir):
    job = running_job(project, heartbeat_ago=timedelta(minutes=10))
    stale = export_dir / "p1" / str(job.pk) / ".attempt-dead"
    stale.mkdir(parents=True)
    (stale / "half.jsonl").write_text("half")
    export_job_process(job_id=job.pk)  # what the broker's redelivery runs
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert sorted(p.name for p in (export_dir / "p1" / str(job.pk)).iterdir()) == [job.file_name]


def test_a_redelivered_message_leaves_a_live_job_alone(project, gold, monkeypatch):
    job = running_job(project, heartbeat_ago=timedelta(seconds=10))

    def never(**kwargs):
        raise AssertionError("a live job is written twice")

    monkeypatch.setattr(exports, "gold_export_write", never)
    export_job_process(job_id=job.pk)
    assert ExportJob.objects.values_list("status", "progress_done").get(pk=job.pk) == ("running", 2)


@pytest.mark.parametrize("woken", ["finishes", "fails"])
def test_a_worker_taken_for_dead_writes_nothing(project, researcher, gold, monkeypatch, export_dir, woken):
    """Worker A stalls; a redelivered message's worker B claims the job and writes; then A
    wakes up and reports progress and finishes (or fails): the job stays B's."""
    real = exports.gold_export_write
    b_started = timezone.now() + timedelta(seconds=1)
    b_folder = export_dir / "p1"

    def worker_a(**kwargs):
        result = real(**kwargs)
        job = ExportJob.objects.get(project=project)
        # B's claim of the stalled job (as export_job_process claims) and its first file.
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.RUNNING, started_at=b_started, heartbeat_at=b_started, progress_done=0, progress_total=0
        )
        (b_folder / str(job.pk) / ".attempt-b").mkdir(parents=True)
        (b_folder / str(job.pk) / ".attempt-b" / "part.jsonl").write_text("B writes")
        kwargs["progress"](3, 99)  # A wakes up
        if woken == "fails":
            raise RuntimeError("A wakes up to a broken pipe")
        return result

    monkeypatch.setattr(exports, "gold_export_write", worker_a)
    job = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    export_job_process(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.started_at, job.heartbeat_at) == ("running", b_started, b_started)
    assert (job.progress_done, job.progress_total, job.error, job.file_path) == (0, 0, "", "")
    assert [p.name for p in (b_folder / str(job.pk)).iterdir()] == [".attempt-b"]  # A's folder is gone
    assert (b_folder / str(job.pk) / ".attempt-b" / "part.jsonl").read_text() == "B writes"


def test_a_retry_while_the_stalled_worker_still_writes(project, researcher, gold, monkeypatch, export_dir):
    """Retried while A still writes; B writes the job; A's late result is dropped."""
    real = exports.gold_export_write
    calls = []

    def worker_a_then_b(**kwargs):
        calls.append(kwargs["out"])
        result = real(**kwargs)
        if len(calls) == 1:
            job = ExportJob.objects.select_related("project").get(project=project)
            ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
            export_job_retry(job=job)
            export_job_process(job_id=job.pk)  # worker B, start to end
        return result

    monkeypatch.setattr(exports, "gold_export_write", worker_a_then_b)
    job = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    export_job_process(job_id=job.pk)

    assert len(calls) == 2 and calls[0] != calls[1]  # each attempt wrote into its own folder
    job.refresh_from_db()
    assert (job.status, job.error) == ("done", "")
    path = export_dir / job.file_path
    assert sha256(path) == job.manifest["download"]["sha256"]
    assert sorted(p.name for p in path.parent.iterdir()) == [job.file_name]


def test_a_job_deleted_while_running_leaves_no_files(project, researcher, gold, monkeypatch, export_dir):
    real = exports.gold_export_write

    def deleted_meanwhile(**kwargs):
        result = real(**kwargs)
        ExportJob.objects.filter(project=project).delete()
        return result

    monkeypatch.setattr(exports, "gold_export_write", deleted_meanwhile)
    job = export_job_create(project=project, user=researcher, fmt="hf", options={})
    export_job_process(job_id=job.pk)
    assert not (export_dir / "p1" / str(job.pk)).exists()


# --- rights -----------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "code"), [("annotator", 403), ("reviewer", 403), ("outsider", 404)])
def test_only_researchers_and_staff_may_retry(api_client, client, project, sent, request, who, code):
    job = ExportJob.objects.create(project=project, format="jsonl", status=ExportStatus.FAILED, error="x")
    user = request.getfixturevalue(who)
    api_client.force_authenticate(user)
    assert api_client.post(reverse("api-export-retry", args=["p1", job.pk])).status_code == code
    client.force_login(user)
    assert client.post(reverse("export-detail", args=["p1", job.pk]), {"action": "retry"}).status_code == code
    job.refresh_from_db()
    assert job.status == "failed" and sent == []


def test_retry_needs_a_login(api_client, client, project):
    job = ExportJob.objects.create(project=project, format="jsonl", status=ExportStatus.FAILED)
    assert api_client.post(reverse("api-export-retry", args=["p1", job.pk])).status_code in (401, 403)
    response = client.post(reverse("export-detail", args=["p1", job.pk]), {"action": "retry"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_service_refuses_with_an_application_error(project):
    job = ExportJob.objects.create(project=project, format="jsonl", status=ExportStatus.QUEUED)
    with pytest.raises(ApplicationError) as refused:
        export_job_retry(job=job)
    assert refused.value.status == 409
