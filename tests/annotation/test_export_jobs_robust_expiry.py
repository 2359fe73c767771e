"""Export files expire after ELMTEX_EXPORT_KEEP_DAYS (the job stays done, its download
answers 410), and ``cleanup_exports`` removes what no job or project points at."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from annotation.models import ExportJob, ExportStatus
from annotation.services import export_jobs_upkeep
from annotation.services.export_jobs import export_job_create, export_job_process
from tests.factories import DocumentFactory, GoldFactory, MembershipFactory, ProjectFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("export_dir", "sent")]


@pytest.fixture
def gold(project):
    for i in range(1, 4):
        GoldFactory(document=DocumentFactory(project=project, external_id=str(i), split="train"))


def done_job(project, user, *, days_ago: float, fmt="jsonl") -> ExportJob:
    job = export_job_create(project=project, user=user, fmt=fmt, options={})
    export_job_process(job_id=job.pk)
    ExportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=days_ago))
    job.refresh_from_db()
    assert job.status == "done", job.error
    return job


def test_listing_expires_files_past_the_keep_days(
    api_client, client, researcher, project, gold, export_dir, monkeypatch
):
    old = done_job(project, researcher, days_ago=8)
    young = done_job(project, researcher, days_ago=6)
    old_path, young_path = export_dir / old.file_path, export_dir / young.file_path
    assert old_path.is_file() and young_path.is_file()
    monkeypatch.setattr(export_jobs_upkeep, "_last_expiry_sweep", None)  # the creations swept a moment ago

    api_client.force_authenticate(researcher)
    listed = {job["id"]: job for job in api_client.get(reverse("api-export-list", args=["p1"])).json()["results"]}

    assert not old_path.exists() and not old_path.parent.exists()
    assert young_path.is_file()
    old.refresh_from_db()
    assert (old.status, old.file_path) == ("done", "")
    assert old.manifest["records"] == 3  # the manifest stays, with when the file went
    expired_at = old.manifest["expired_at"]
    data = listed[old.pk]
    assert (data["status"], data["download_url"], data["retry_url"]) == ("done", None, None)
    assert data["expired_at"] is not None and data["expired_at"][:10] == expired_at[:10]
    today = timezone.localdate().isoformat()
    assert f"expired on {today}" in data["reason"]
    assert listed[young.pk]["download_url"] and listed[young.pk]["expired_at"] is None

    client.force_login(researcher)
    page = client.get(reverse("export-list", args=["p1"])).content.decode()
    assert f"expired on {today}" in page
    assert reverse("export-download", args=["p1", old.pk]) not in page
    assert reverse("export-download", args=["p1", young.pk]) in page
    detail = client.get(reverse("export-detail", args=["p1", old.pk])).content.decode()
    assert f"Expired on {today}:" in detail and "kept 7 days" in detail
    assert ">Download " not in detail


def test_the_download_of_an_expired_file_is_gone(api_client, client, researcher, project, gold):
    job = done_job(project, researcher, days_ago=30)
    export_jobs_upkeep.export_files_expire()
    api_client.force_authenticate(researcher)
    response = api_client.get(reverse("api-export-download", args=["p1", job.pk]))
    assert response.status_code == 410
    detail = response.json()["detail"]
    assert detail == (
        f"the file of export {job.pk} expired on {timezone.localdate().isoformat()} (finished exports are kept "
        "7 days, ELMTEX_EXPORT_KEEP_DAYS); start the export again"
    )
    client.force_login(researcher)
    page = client.get(reverse("export-download", args=["p1", job.pk]))
    assert page.status_code == 410
    assert b"Export file expired" in page.content and b"start the export again" in page.content


def test_a_due_file_is_gone_even_before_a_sweep(api_client, researcher, project, gold, export_dir, monkeypatch):
    job = done_job(project, researcher, days_ago=8)
    monkeypatch.setattr(export_jobs_upkeep, "_last_expiry_sweep", float("inf"))  # no sweep would run
    api_client.force_authenticate(researcher)
    assert api_client.get(reverse("api-export-download", args=["p1", job.pk])).status_code == 410
    job.refresh_from_db()
    assert job.file_path == ""
    assert not (export_dir / "p1" / str(job.pk)).exists()


def test_creating_a_job_expires_old_files(project, researcher, gold, export_dir, monkeypatch):
    old = done_job(project, researcher, days_ago=10)
    monkeypatch.setattr(export_jobs_upkeep, "_last_expiry_sweep", None)
    export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    old.refresh_from_db()
    assert old.file_path == "" and "expired_at" in old.manifest


def test_the_opportunistic_sweep_runs_at_most_once_a_minute(api_client, researcher, project, gold, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(export_jobs_upkeep.time, "monotonic", lambda: clock[0])
    api_client.force_authenticate(researcher)
    url = reverse("api-export-list", args=["p1"])
    api_client.get(url)  # a sweep: nothing due
    job = done_job(project, researcher, days_ago=8)
    clock[0] += 30
    api_client.get(url)
    job.refresh_from_db()
    assert job.file_path  # within the minute: not swept
    clock[0] += 31
    api_client.get(url)
    job.refresh_from_db()
    assert job.file_path == ""


def test_keep_days_zero_keeps_files_forever(api_client, researcher, project, gold, settings, export_dir):
    settings.ELMTEX_EXPORT_KEEP_DAYS = 0
    job = done_job(project, researcher, days_ago=3650)
    api_client.force_authenticate(researcher)
    api_client.get(reverse("api-export-list", args=["p1"]))
    assert export_jobs_upkeep.export_files_expire() == []
    job.refresh_from_db()
    assert (export_dir / job.file_path).is_file()
    assert api_client.get(reverse("api-export-download", args=["p1", job.pk])).status_code == 200


def test_an_expired_job_cannot_be_retried(api_client, researcher, project, gold):
    job = done_job(project, researcher, days_ago=8)
    export_jobs_upkeep.export_files_expire()
    api_client.force_authenticate(researcher)
    response = api_client.post(reverse("api-export-retry", args=["p1", job.pk]))
    assert response.status_code == 409
    assert "its file expired, start a new export" in response.json()["detail"]


# --- cleanup_exports --------------------------------------------------------------------


@pytest.fixture
def disk(project, researcher, gold, export_dir):
    """Kept: a fresh done job's file. Expired: an old one's. Orphans: a deleted job's
    folder, a deleted project's folder, a failed job's leftovers. Left alone: other files."""
    kept = done_job(project, researcher, days_ago=1)
    old = done_job(project, researcher, days_ago=9)
    (export_dir / "p1" / str(kept.pk) / ".attempt-old").mkdir()
    (export_dir / "p1" / str(kept.pk) / ".attempt-old" / "half.jsonl").write_text("half")

    gone_job = done_job(project, researcher, days_ago=1)
    ExportJob.objects.filter(pk=gone_job.pk).delete()

    other = ProjectFactory(slug="gone")
    MembershipFactory(project=other, user=researcher, role="researcher")
    GoldFactory(document=DocumentFactory(project=other, external_id="1"))
    other_job = done_job(other, researcher, days_ago=1)
    other.delete()  # its jobs go with it (cascade), its files stay

    failed = ExportJob.objects.create(project=project, format="jsonl", status=ExportStatus.FAILED, error="x")
    (export_dir / "p1" / str(failed.pk)).mkdir()
    (export_dir / "p1" / str(failed.pk) / "partial.jsonl").write_text("part")

    running = ExportJob.objects.create(project=project, format="jsonl", status=ExportStatus.RUNNING)
    (export_dir / "p1" / str(running.pk) / ".attempt-live").mkdir(parents=True)

    (export_dir / "README.txt").write_text("not ours")
    (export_dir / "p1" / "notes").mkdir()
    return {
        "kept": kept,
        "old": old,
        "gone_job": gone_job,
        "other_job": other_job,
        "failed": failed,
        "running": running,
    }


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def test_cleanup_dry_run_lists_and_changes_nothing(run_cli, disk, export_dir):
    before = tree(export_dir)
    old_manifest = ExportJob.objects.get(pk=disk["old"].pk).manifest
    result = run_cli("cleanup_exports", "--dry-run")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert f"would expire export {disk['old'].pk} of p1" in result.out
    assert f"would remove p1/{disk['gone_job'].pk} (export job {disk['gone_job'].pk} no longer exists)" in lines
    assert f"would remove gone/{disk['other_job'].pk} (project gone no longer exists)" in lines
    assert f"would remove p1/{disk['kept'].pk}/.attempt-old (left over from an earlier attempt of export " in result.out
    assert f"would remove p1/{disk['failed'].pk}/partial.jsonl (left over" in result.out
    assert "left alone README.txt (not a project's export folder)" in lines
    assert "left alone p1/notes (not an export job's folder)" in lines
    assert lines[-1].startswith("dry run: would expire 1 export file, would remove 4 orphan folders or files (")
    assert tree(export_dir) == before
    assert ExportJob.objects.get(pk=disk["old"].pk).manifest == old_manifest


def test_cleanup_removes_orphans_and_expires(run_cli, disk, export_dir):
    result = run_cli("cleanup_exports")
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1].startswith("expired 1 export file, removed 4 orphan folders or files (")
    kept = disk["kept"]
    assert tree(export_dir) == {
        "README.txt",
        "p1",
        "p1/notes",
        f"p1/{kept.pk}",
        kept.file_path,
        f"p1/{disk['running'].pk}",
        f"p1/{disk['running'].pk}/.attempt-live",
    }
    assert ExportJob.objects.get(pk=disk["old"].pk).file_path == ""
    assert ExportJob.objects.get(pk=disk["failed"].pk).status == "failed"
    # Nothing left to do the second time.
    again = run_cli("cleanup_exports")
    assert again.out.splitlines()[-1].startswith("expired 0 export files, removed 0 orphan folders or files (0 bytes)")


def test_cleanup_without_an_export_folder(run_cli, export_dir):
    result = run_cli("cleanup_exports")
    assert result.code == 0, result.err
    assert not export_dir.exists()
    assert "expired 0 export files, removed 0 orphan folders or files" in result.out
