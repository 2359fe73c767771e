"""Gold exports as background jobs (the export page, ``/api/projects/<slug>/exports/``).

``export_job_create`` checks every option (nothing is stored for a refused request),
stores a queued ExportJob and hands its id to a worker on queue ``evaluation`` once the
transaction commits; the worker calls ``export_job_process``, which writes the export
with ``gold_export_write`` under ``ELMTEX_EXPORT_DIR/<project slug>/<job id>/`` (an
``hf`` folder is zipped into one file) and stores the file, its manifest and the
progress on the job. Stalled jobs, retries, expiry and orphan folders:
:mod:`.export_jobs_upkeep`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from elmtex_site.errors import ApplicationError, NotFound, Problem

from ..models import ExportJob, ExportStatus, Project
from .export_jobs_upkeep import (
    export_files_expire_due,
    export_job_dir,
    export_job_expire_if_due,
    export_job_gone_error,
    export_jobs_stalled_q,
    export_root,
)
from .exports import EXPORT_FORMATS, GoldFilter, gold_export_options_check, gold_filter_build

logger = logging.getLogger(__name__)

# Progress (and the heartbeat) is written to the job at most this often (seconds) while a
# worker exports.
PROGRESS_INTERVAL = 1.0
# The options a job takes (besides the format), as the API and the page name them.
OPTION_NAMES = (
    "language",
    "split",
    "only_adjudicated",
    "min_agreement",
    "with_metadata",
    "tokenizer",
    "max_tokens",
    "prompt_run",
)
FILE_EXTENSIONS = {"jsonl": "jsonl", "json": "json", "csv": "csv", "chat": "jsonl", "hf": "zip"}
TRUE_VALUES = ("1", "true", "on", "yes")
FALSE_VALUES = ("", "0", "false", "off", "no")
ZIP_CHUNK = 1 << 20


def _refuse(message: str, field: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", problems=[Problem(message, field=field)])


def _named(exc: ApplicationError) -> ApplicationError:
    """The export services' messages start with the option (``max-tokens: ...``); give
    the problem that option's API name as its field."""
    name, sep, rest = exc.message.partition(": ")
    field = name.replace("-", "_")
    if sep and field in (*OPTION_NAMES, "format"):
        return _refuse(rest, field)
    return exc


def _text(options: dict, name: str) -> str | None:
    value = options.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _refuse(f"expected a string, got {value!r}", name)
    return value.strip() or None


def _flag(options: dict, name: str) -> bool:
    value = options.get(name, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_VALUES + FALSE_VALUES:
        return value.strip().lower() in TRUE_VALUES
    raise _refuse(f"expected true or false, got {value!r}", name)


def _positive_int(options: dict, name: str) -> int | None:
    value = options.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        number = None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()) or not number or number < 1:
        raise _refuse(f"expected a whole number of at least 1, got {value!r}", name)
    return number


def export_options_check(*, project: Project, fmt: str, options: dict) -> tuple[GoldFilter, dict]:
    """The job's filter and its options as stored (plain JSON: ids and paths only), or an
    ApplicationError naming the first bad option. Reads the tokenizer if one is named."""
    filters, clean, _ = _options_resolve(project=project, fmt=fmt, options=options)
    return filters, clean


def _options_resolve(*, project: Project, fmt: str, options: dict):
    if not isinstance(options, dict):
        raise _refuse("expected an object of export options", "options")
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise _refuse(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(OPTION_NAMES)}", "options")
    if fmt not in EXPORT_FORMATS:
        raise _refuse(f"expected one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}", "format")
    clean = {
        "language": _text(options, "language"),
        "split": _text(options, "split"),
        "only_adjudicated": _flag(options, "only_adjudicated"),
        "min_agreement": options.get("min_agreement"),
        "with_metadata": _flag(options, "with_metadata"),
        "tokenizer": _text(options, "tokenizer"),
        "max_tokens": _positive_int(options, "max_tokens"),
        "prompt_run": None,
    }
    prompt_run = _prompt_run(project=project, ref=options.get("prompt_run"))
    try:
        filters = gold_filter_build(
            language=clean["language"],
            split=clean["split"],
            only_adjudicated=clean["only_adjudicated"],
            min_agreement=clean["min_agreement"],
            prefix="",
        )
        gold_export_options_check(
            fmt=fmt,
            project=project,
            with_metadata=clean["with_metadata"],
            tokenizer=clean["tokenizer"],
            max_tokens=clean["max_tokens"],
            prompt_run=prompt_run,
            prefix="",
        )
    except ApplicationError as exc:
        raise _named(exc) from None
    clean.update(split=filters.split, min_agreement=filters.min_agreement)
    clean["prompt_run"] = prompt_run.pk if prompt_run is not None else None
    return filters, clean, prompt_run


def _prompt_run(*, project: Project, ref):
    if ref is None or (isinstance(ref, str) and not ref.strip()):
        return None
    from inference.selectors import run_get  # annotation's models never import inference; services may, lazily

    try:
        return run_get(ref=ref, project=project)
    except NotFound as exc:
        raise _refuse(exc.message, "prompt_run") from None


def export_job_create(*, project: Project, user, fmt: str, options: dict) -> ExportJob:
    """Check the request, store a queued job and enqueue it once the transaction commits.
    A broker that cannot be reached marks the job failed (the returned job says so)."""
    from ..tasks_exports import export_job_enqueue

    _, clean = export_options_check(project=project, fmt=fmt, options=options)
    export_files_expire_due()
    with transaction.atomic():
        job = ExportJob.objects.create(
            project=project,
            format=fmt,
            options=clean,
            status=ExportStatus.QUEUED,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        transaction.on_commit(lambda: export_job_enqueue(job.pk))
    job.refresh_from_db(fields=["status", "error"])
    logger.info("export job %s of project %s queued (%s)", job.pk, project.pk, fmt)
    return job


def export_job_file(job: ExportJob) -> Path:
    """The finished file on disk; NotFound when the job has none (not done, or removed),
    a 410 ApplicationError when it expired (now, if it is past the keep time)."""
    if job.status == ExportStatus.DONE and (not job.file_path or export_job_expire_if_due(job)):
        raise export_job_gone_error(job)
    if job.status != ExportStatus.DONE or not job.file_path:
        raise NotFound(f"export {job.pk} has no file yet (status {job.status})")
    root = export_root().resolve()
    path = (root / job.file_path).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound(f"the file of export {job.pk} is gone from the server; start the export again")
    return path


def export_job_file_name(job: ExportJob) -> str:
    return f"{job.project.slug}-gold-{job.pk}-{job.format}.{FILE_EXTENSIONS.get(job.format, 'dat')}"


def export_job_process(*, job_id: int) -> None:
    """The worker's side of ``export_job_create``: claim the job, write it, store the
    result. A failure is stored on the job (status failed, error); nothing else.

    The claim takes a queued job, or a stalled one (its worker died and the broker
    delivered the message again). It stamps ``started_at``, and every later write of this
    worker matches on that stamp: a worker taken for dead, whose job was retried or
    claimed again meanwhile, stores nothing and only ever writes into its own folder."""
    now = timezone.now()
    claimable = Q(status=ExportStatus.QUEUED) | export_jobs_stalled_q(now=now)
    claimed = ExportJob.objects.filter(claimable, pk=job_id).update(
        status=ExportStatus.RUNNING, started_at=now, heartbeat_at=now, progress_done=0, progress_total=0, error=""
    )
    if not claimed:
        logger.info("export job %s is not queued (done, running elsewhere or deleted); skipped", job_id)
        return
    mine = ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING, started_at=now)
    job = ExportJob.objects.select_related("project").get(pk=job_id)
    directory = export_job_dir(job)
    shutil.rmtree(directory, ignore_errors=True)  # an earlier, stalled attempt's files
    work = directory / f".attempt-{uuid.uuid4().hex}"
    progress = _ProgressWriter(mine)
    try:
        fields = _export_write(job, directory, work, progress)
    except Exception as exc:
        if isinstance(exc, ApplicationError):
            message = exc.message
            logger.warning("export job %s refused: %s", job_id, type(exc).__name__)
        else:
            # The traceback goes to the log without exception messages (IdsOnlyFormatter).
            logger.exception("export job %s failed", job_id)
            message = f"unexpected failure ({type(exc).__name__}); the log has the details"
        shutil.rmtree(work, ignore_errors=True)
        with contextlib.suppress(OSError):
            directory.rmdir()
        ended = timezone.now()
        mine.update(status=ExportStatus.FAILED, error=message, finished_at=ended, heartbeat_at=ended)
        return
    if _export_store(mine, work, directory, fields):
        logger.info("export job %s done: %s records", job_id, fields["manifest"].get("records"))
    elif not ExportJob.objects.filter(pk=job_id).exists():
        # Deleted while it ran: nothing will ever point at these files.
        shutil.rmtree(directory, ignore_errors=True)
        logger.info("export job %s was deleted while it ran; its files are removed", job_id)
    else:
        logger.info("export job %s was retried or taken over while this worker wrote it; result dropped", job_id)


def _export_store(mine, work: Path, directory: Path, fields: dict) -> bool:
    """Move the file from ``work`` into the job's folder and store the job as done, if
    this worker's claim still holds; False (and nothing stored) if not. The row lock
    orders this against a retry or a delete of the job."""
    with transaction.atomic():
        held = list(mine.select_for_update().values_list("pk", flat=True))
        if held:
            os.replace(work / fields["file_name"], directory / fields["file_name"])
            ended = timezone.now()
            mine.update(status=ExportStatus.DONE, finished_at=ended, heartbeat_at=ended, error="", **fields)
    shutil.rmtree(work, ignore_errors=True)
    return bool(held)


def _export_write(job: ExportJob, directory: Path, work: Path, progress: _ProgressWriter) -> dict:
    """Write the export into ``work`` (made afresh); the job's result fields, the file's
    path being where ``_export_store`` moves it (``directory``)."""
    from .exports import gold_export_write

    # Checked again: a run or a tokenizer named at creation may be gone by now.
    filters, options, prompt_run = _options_resolve(
        project=job.project,
        fmt=job.format,
        options={k: v for k, v in (job.options or {}).items() if k in OPTION_NAMES},
    )
    work.mkdir(parents=True)
    name = export_job_file_name(job)
    target = work / name
    out = work / name.removesuffix(".zip") if job.format == "hf" else target
    result = gold_export_write(
        project=job.project,
        out=str(out),
        fmt=job.format,
        filters=filters,
        with_metadata=options["with_metadata"],
        tokenizer=options["tokenizer"],
        max_tokens=options["max_tokens"],
        prompt_run=prompt_run,
        progress=progress,
    )
    manifest = dict(result.manifest or {})
    if job.format == "hf":
        size, digest = _zip_folder(out, target, beat=progress.beat)
        shutil.rmtree(out, ignore_errors=True)
    else:
        size, digest = _file_digest(target, beat=progress.beat)
    manifest["download"] = {"name": name, "bytes": size, "sha256": digest}
    total = max(result.records + sum(result.skipped.values()), progress.last_total())
    return {
        "file_path": (directory / name).relative_to(export_root()).as_posix(),
        "file_name": name,
        "file_bytes": size,
        "manifest": manifest,
        "progress_done": total,
        "progress_total": total,
    }


def _file_digest(path: Path, beat: Callable[[], None] | None = None) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(ZIP_CHUNK):
            size += len(block)
            digest.update(block)
            if beat is not None:
                beat()
    return size, digest.hexdigest()


def _zip_folder(folder: Path, target: Path, beat: Callable[[], None] | None = None) -> tuple[int, str]:
    """Zip ``folder`` (as one top-level folder of the same name) into ``target``,
    streaming file by file; the zip appears whole or not at all."""
    partial = target.with_name(f".{target.name}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, arcname=(Path(folder.name) / path.relative_to(folder)).as_posix())
                if beat is not None:
                    beat()
    os.replace(partial, target)
    return _file_digest(target, beat=beat)


class _ProgressWriter:
    """``progress(done, total)`` that writes to the job at most every PROGRESS_INTERVAL
    seconds (and whenever the total changes), for the page and the API while it runs; each
    write is a heartbeat too (``heartbeat_at``: a job without one for a while is stalled).
    ``mine`` is the job filtered on this worker's claim."""

    def __init__(self, mine):
        self.mine, self.at, self.total = mine, 0.0, None

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if total == self.total and now - self.at < PROGRESS_INTERVAL:
            return
        self.at, self.total = now, total
        self.mine.update(progress_done=done, progress_total=total, heartbeat_at=timezone.now())

    def beat(self) -> None:
        """A heartbeat alone, for long steps without records (zipping, checksums)."""
        now = time.monotonic()
        if now - self.at < PROGRESS_INTERVAL:
            return
        self.at = now
        self.mine.update(heartbeat_at=timezone.now())

    def last_total(self) -> int:
        return self.total or 0


def export_job_mark_failed(*, job_id: int, error: str) -> None:
    ExportJob.objects.filter(pk=job_id).update(status=ExportStatus.FAILED, error=error, finished_at=timezone.now())


def export_job_delete(*, job: ExportJob) -> None:
    """Delete the job and its files (a running job's worker removes what it still writes)."""
    directory = export_job_dir(job)
    job.delete()
    shutil.rmtree(directory, ignore_errors=True)
    with contextlib.suppress(OSError):
        directory.parent.rmdir()  # the project's folder, once it holds no other job


def export_jobs_for_project(*, project: Project):
    return ExportJob.objects.filter(project=project).select_related("created_by", "project")


def export_job_get(*, project: Project, pk: int) -> ExportJob:
    job = export_jobs_for_project(project=project).filter(pk=pk).first()
    if job is None:
        raise NotFound(f"export {pk} does not exist in project {project.slug!r}")
    return job


def export_job_progress(job: ExportJob) -> dict:
    """``{"done", "total", "percent"}``; percent is null until the total is known."""
    total = job.progress_total
    percent = round(100 * job.progress_done / total, 1) if total else None
    if job.status == ExportStatus.DONE:
        percent = 100.0
    return {"done": job.progress_done, "total": total, "percent": percent}
