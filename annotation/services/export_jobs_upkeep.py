"""Upkeep of gold export jobs: stalled jobs and their retry, expiry of finished files, and
the sweep of folders nothing points at (``manage.py cleanup_exports``).

A running job whose worker has written no progress for ELMTEX_EXPORT_STALL_SECONDS is
*stalled*: derived when read, as a run's stalled is; the stored status stays running. A
failed or stalled job can be retried: its files removed, back to queued, enqueued again.

Finished files are kept ELMTEX_EXPORT_KEEP_DAYS days after the job finished (0: forever).
An expired job stays done with its manifest; its file is removed, ``file_path`` cleared and
``manifest["expired_at"]`` set, and its download answers 410. Expiry runs when a job is
created or a job list is read (at most once a minute per process), when a due file is
asked for, and in ``cleanup_exports``.

Deleting a project deletes its jobs (cascade) but not their files (no signal handlers, by
design): ``cleanup_exports`` removes the folders under ELMTEX_EXPORT_DIR whose job or
project no longer exists.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from elmtex_site.errors import ApplicationError, Conflict, NotFound, Problem

from ..models import ExportJob, ExportStatus, Project

logger = logging.getLogger(__name__)

# Derived, never stored: a running job without worker progress for the stall time.
STALLED = "stalled"
EFFECTIVE_STATUSES = (*ExportStatus.values, STALLED)
RETRYABLE = (ExportStatus.FAILED, STALLED)
# Seconds between two opportunistic expiry sweeps of one process.
EXPIRY_INTERVAL = 60.0
_last_expiry_sweep: float | None = None


def export_root() -> Path:
    return Path(settings.ELMTEX_EXPORT_DIR)


def export_job_dir(job: ExportJob) -> Path:
    return export_root() / job.project.slug / str(job.pk)


def export_stall_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "ELMTEX_EXPORT_STALL_SECONDS", 300))


def export_keep_days() -> int:
    return getattr(settings, "ELMTEX_EXPORT_KEEP_DAYS", 7)


# --- stalled jobs -----------------------------------------------------------------------


def export_jobs_stalled_q(*, now: datetime) -> Q:
    """Running jobs without worker progress since ``now`` minus the stall time."""
    cutoff = now - export_stall_after()
    last_progress = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    return Q(status=ExportStatus.RUNNING) & last_progress


def export_job_status_effective(job: ExportJob, *, now: datetime | None = None) -> str:
    """The stored status, or ``stalled`` for a running job whose worker stopped writing."""
    if job.status == ExportStatus.RUNNING:
        last = job.heartbeat_at or job.started_at
        if last is not None and (now or timezone.now()) - last > export_stall_after():
            return STALLED
    return job.status


def export_job_expired_at(job: ExportJob) -> datetime | None:
    """When the job's file expired; None while it has one (or never had one)."""
    if job.status != ExportStatus.DONE or job.file_path:
        return None
    value = (job.manifest or {}).get("expired_at")
    return parse_datetime(value) if isinstance(value, str) else None


def export_job_status_reason(job: ExportJob, status: str) -> str:
    """What a user should read next to the effective ``status`` ("" when all is well)."""
    if status == STALLED:
        last = job.heartbeat_at or job.started_at
        seconds = int((timezone.now() - last).total_seconds()) if last else 0
        return (
            f"no worker has written progress for {seconds} s; check that a worker runs "
            "(celery -A elmtex_site worker), then retry the export"
        )
    if status == ExportStatus.FAILED:
        return job.error or "no reason was recorded; retry the export"
    if status == ExportStatus.DONE and not job.file_path:
        return _gone_message(job)
    return ""


def export_job_retry(*, job: ExportJob) -> ExportJob:
    """Put a failed or stalled job back to queued, its files removed first, and enqueue
    it once the transaction commits. Conflict (409) from any other state.

    The row lock orders this against a worker storing the job as done (it takes the same
    lock); a stalled worker that wakes up later finds its claim gone and writes nothing."""
    from ..tasks_exports import export_job_enqueue

    with transaction.atomic():
        locked = ExportJob.objects.select_for_update().filter(pk=job.pk).first()
        if locked is None:
            raise NotFound(f"export {job.pk} does not exist (deleted meanwhile)")
        status = export_job_status_effective(locked)
        if status not in RETRYABLE:
            raise Conflict(f"export {job.pk} is {status}; {_not_retryable_hint(locked, status)}", field="status")
        shutil.rmtree(export_job_dir(job), ignore_errors=True)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.QUEUED,
            error="",
            progress_done=0,
            progress_total=0,
            started_at=None,
            heartbeat_at=None,
            finished_at=None,
            file_path="",
            file_name="",
            file_bytes=0,
            manifest={},
        )
        transaction.on_commit(lambda: export_job_enqueue(job.pk))
    job.refresh_from_db()
    logger.info("export job %s retried (was %s)", job.pk, status)
    return job


def _not_retryable_hint(job: ExportJob, status: str) -> str:
    if status == ExportStatus.RUNNING:
        seconds = int(export_stall_after().total_seconds())
        return f"only a failed or stalled export can be retried (stalled: no progress for {seconds} s); wait for it"
    if status == ExportStatus.QUEUED:
        return "only a failed or stalled export can be retried; it waits for a worker (celery -A elmtex_site worker)"
    if not job.file_path:
        return "only a failed or stalled export can be retried; its file expired, start a new export"
    return "only a failed or stalled export can be retried; download its file, or start a new export"


def export_job_actions(job: ExportJob, status: str) -> dict:
    """What the pages offer for a job in the effective ``status``."""
    return {
        "retry": status in RETRYABLE,
        "download": status == ExportStatus.DONE and bool(job.file_path),
    }


# --- expiry -----------------------------------------------------------------------------


def _gone_message(job: ExportJob) -> str:
    expired = export_job_expired_at(job)
    when = f" on {timezone.localtime(expired):%Y-%m-%d}" if expired else ""
    days = export_keep_days()
    kept = f" (finished exports are kept {days} days, ELMTEX_EXPORT_KEEP_DAYS)" if days and days > 0 else ""
    return f"the file of export {job.pk} expired{when}{kept}; start the export again"


def export_job_gone_error(job: ExportJob) -> ApplicationError:
    """The 410 answer for the download of an expired job."""
    message = _gone_message(job)
    return ApplicationError(message, problems=[Problem(message)], status=410)


def _expiry_cutoff(now: datetime) -> datetime | None:
    days = export_keep_days()
    return now - timedelta(days=days) if days and days > 0 else None


def export_job_expire_if_due(job: ExportJob, *, now: datetime | None = None) -> bool:
    """Expire ``job``'s file now if it is past the keep time (True if it was)."""
    now = now or timezone.now()
    cutoff = _expiry_cutoff(now)
    if cutoff is None or job.status != ExportStatus.DONE or not job.file_path:
        return False
    if job.finished_at is None or job.finished_at >= cutoff:
        return False
    return _expire(job, now=now)


def export_files_expire(*, now: datetime | None = None, dry_run: bool = False) -> list[ExportJob]:
    """Expire every finished file past the keep time; the jobs expired (dry run: that
    would be). One indexed-enough query that usually finds nothing."""
    now = now or timezone.now()
    cutoff = _expiry_cutoff(now)
    if cutoff is None:
        return []
    due = list(
        ExportJob.objects.filter(status=ExportStatus.DONE, finished_at__lt=cutoff)
        .exclude(file_path="")
        .select_related("project")
        .order_by("pk")
    )
    if dry_run:
        return due
    return [job for job in due if _expire(job, now=now)]


def export_files_expire_due() -> None:
    """``export_files_expire`` at most once every EXPIRY_INTERVAL seconds per process
    (called when a job is created and when a job list is read)."""
    global _last_expiry_sweep
    moment = time.monotonic()
    if _last_expiry_sweep is not None and moment - _last_expiry_sweep < EXPIRY_INTERVAL:
        return
    _last_expiry_sweep = moment
    export_files_expire()


def _expire(job: ExportJob, *, now: datetime) -> bool:
    manifest = {**(job.manifest or {}), "expired_at": now.isoformat()}
    # Conditional: a job deleted or expired meanwhile is left as it is.
    updated = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.DONE, file_path=job.file_path).update(
        file_path="", manifest=manifest
    )
    if not updated:
        return False
    _remove_job_file(job.file_path)
    job.file_path, job.manifest = "", manifest
    logger.info("export job %s of project %s: file expired", job.pk, job.project_id)
    return True


def _remove_job_file(relative: str) -> None:
    """Remove a job's file and its job folder (``<slug>/<id>/``), never anything outside
    the export folder; the project's folder too once it is empty."""
    root = export_root().resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        return
    folder = path.parent
    if folder.parent.parent == root:
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.parent.rmdir()
    else:
        path.unlink(missing_ok=True)


# --- cleanup_exports --------------------------------------------------------------------


@dataclass
class CleanupResult:
    dry_run: bool
    expired: list[ExportJob] = field(default_factory=list)
    # (path relative to ELMTEX_EXPORT_DIR, why) of what was (dry run: would be) removed.
    removed: list[tuple[str, str]] = field(default_factory=list)
    # (path, why) of what is not an export job's folder and so was left alone.
    left: list[tuple[str, str]] = field(default_factory=list)
    bytes_freed: int = 0

    def summary(self) -> str:
        verb = "would expire" if self.dry_run else "expired"
        removed = "would remove" if self.dry_run else "removed"
        files = _plural(len(self.expired), "export file")
        folders = _plural(len(self.removed), "orphan folder or file", "orphan folders or files")
        text = f"{verb} {files}, {removed} {folders} ({_size(self.bytes_freed)})"
        return ("dry run: " + text) if self.dry_run else text


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


def _tree_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def exports_cleanup(*, dry_run: bool = False, now: datetime | None = None) -> CleanupResult:
    """Expire the files past the keep time, then remove under ELMTEX_EXPORT_DIR the job
    folders whose job (or project) no longer exists and, in the folders of jobs that are
    neither queued nor running, whatever is not the job's file (an earlier attempt's
    leftovers). Only ``<project slug>/<job id>/`` folders are touched; anything else is
    left alone and listed.

    The disk is read before the database: whatever is seen on disk was made for a job
    stored before the jobs are read, so the work of a job created or retried meanwhile is
    never taken for an orphan or a leftover."""
    result = CleanupResult(dry_run=dry_run)
    result.expired = export_files_expire(now=now, dry_run=dry_run)
    root = export_root()
    if not root.is_dir():
        return result
    seen = _scan(root, result)
    jobs = {
        pk: (slug, file_path, status)
        for pk, slug, file_path, status in ExportJob.objects.values_list("pk", "project__slug", "file_path", "status")
    }
    result.bytes_freed += sum(job.file_bytes for job in result.expired)
    # A dry run's expiring jobs still have their folders: expiry would remove them whole.
    expiring = {job.pk for job in result.expired}
    slugs = set(Project.objects.values_list("slug", flat=True))
    for slug, pk, folder, entries in seen:
        job = jobs.get(pk)
        if job is None or (job[0] != slug and not job[1].startswith(f"{slug}/{pk}/")):
            why = f"export job {pk} no longer exists" if slug in slugs else f"project {slug} no longer exists"
            _remove(root, folder, why, result)
            continue
        _, file_path, status = job
        if status in (ExportStatus.QUEUED, ExportStatus.RUNNING) or pk in expiring:
            continue
        for entry in entries:
            if entry.relative_to(root).as_posix() != file_path:
                _remove(root, entry, f"left over from an earlier attempt of export {pk}", result)
        if not dry_run:
            with contextlib.suppress(OSError):
                folder.rmdir()  # a failed job's folder, once empty
    if not dry_run:
        for slug_dir in {folder.parent for _, _, folder, _ in seen}:
            with contextlib.suppress(OSError):
                slug_dir.rmdir()  # once it holds no job folder
    return result


def _scan(root: Path, result: CleanupResult) -> list[tuple[str, int, Path, list[Path]]]:
    """``(slug, job id, folder, its entries)`` of every job folder on disk; other entries
    listed as left alone."""
    seen = []
    for slug_dir in sorted(root.iterdir()):
        if not slug_dir.is_dir() or slug_dir.is_symlink():
            result.left.append((slug_dir.name, "not a project's export folder"))
            continue
        for entry in sorted(slug_dir.iterdir()):
            if entry.is_dir() and not entry.is_symlink() and entry.name.isdigit():
                seen.append((slug_dir.name, int(entry.name), entry, sorted(entry.iterdir())))
            else:
                result.left.append((entry.relative_to(root).as_posix(), "not an export job's folder"))
    return seen


def _remove(root: Path, path: Path, why: str, result: CleanupResult) -> None:
    result.removed.append((path.relative_to(root).as_posix(), why))
    result.bytes_freed += _tree_bytes(path)
    if result.dry_run:
        return
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
