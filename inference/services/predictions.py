"""Predictions made elsewhere, in and out (CLI.md ``import_predictions`` /
``export_predictions``).

An import becomes a finished run (source "imported", no endpoint) with one candidate
per record, all or nothing: the file is read as a stream (annotation.pipeline.readers)
and checked record by record inside one transaction; any problem anywhere rolls the
whole run back, after the whole file was read so that up to 20 problems are listed at
once. Memory holds the project's ids (to find each record's document and duplicates),
not the file.

An export writes one JSON line per processed candidate of a run, in patient_id order,
in the shape the import reads, so an export imports back to equal values and statuses.
Pending candidates (a run still going) are left out: an imported run is finished.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

import elmtex_site
from annotation.models import Category, Document, Project
from annotation.pipeline.readers import ReadError, read_records, utf8_chunks
from annotation.pipeline.records import FirstSeen, check_language
from annotation.services.imports import project_lock
from elmtex_site.errors import ApplicationError, ProblemCollector

from ..models import Candidate, CandidateStatus, ModelRun, RunSource, RunStatus, Strategy
from ..pipeline import (
    PredictionRecord,
    candidate_fields,
    file_format,
    file_open,
    prediction_export_record,
    prediction_record_parse,
    refusal,
)
from .runs import external_id_order, run_name_check

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000


@dataclass
class PredictionsImportResult:
    run: ModelRun
    imported: int = 0
    parse_errors: int = 0
    without_output: int = 0  # too_long / failed records of an export
    skipped: int = 0

    def summary_line(self) -> str:
        return (
            f"imported {self.imported} predictions ({self.parse_errors} parse errors, "
            f"{self.skipped} skipped unknown ids)"
        )

    def as_dict(self) -> dict:
        return {
            "run": {"id": self.run.pk, "name": self.run.name},
            "imported": self.imported,
            "parse_errors": self.parse_errors,
            "without_output": self.without_output,
            "skipped": self.skipped,
            "summary": self.summary_line(),
        }


def predictions_import(
    *,
    project: Project,
    path: str | os.PathLike,
    run_name: str,
    language: str = "en",
    skip_unknown: bool = False,
    strategy: str = Strategy.NAIVE,
    user=None,
    display_name: str | None = None,
    fmt: str = "auto",
    progress: Callable[[int], None] | None = None,
) -> PredictionsImportResult:
    """Import the prediction records of the file at ``path`` (named ``display_name`` in
    messages) as a new finished run of ``project``. Raises ApplicationError listing the
    problems, with nothing written, when any record is refused. ``progress`` is called
    with the number of bytes read, chunk by chunk."""
    path = os.fspath(path)
    name = display_name or path
    problem = check_language(language)
    if problem:
        raise refusal(problem, field="language")
    if strategy not in Strategy.values:
        raise refusal(f"expected one of {', '.join(Strategy.values)}, got {strategy!r}", field="strategy")
    keys = list(Category.objects.filter(project=project).order_by("order", "pk").values_list("key", flat=True))
    if not keys:
        raise ApplicationError(f"project {project.slug!r} has no categories; nothing to import predictions for")
    run_name = run_name_check(project=project, name=run_name or "")
    stream, size = file_open(path, name)
    limit = settings.ELMTEX_IMPORT_MAX_BYTES
    if limit and size > limit:
        stream.close()
        raise refusal(
            f"file is {size} bytes, over the limit of {limit} bytes (ELMTEX_IMPORT_MAX_BYTES); split the file",
            file=name,
        )
    try:
        fmt = file_format(stream, name, fmt)
        with transaction.atomic():
            project_lock(project)  # imports into one project take turns (see dataset_import)
            run_name = run_name_check(project=project, name=run_name)  # again, holding the lock
            now = timezone.now()
            run = ModelRun.objects.create(
                project=project,
                name=run_name,
                endpoint=None,
                source=RunSource.IMPORTED,
                strategy=strategy,
                status=RunStatus.FINISHED,
                config={
                    "source": "import",
                    "file": os.path.basename(name),
                    "imported_at": now.isoformat(),
                    "platform_version": elmtex_site.__version__,
                    "schema": keys,
                    "language": language,
                },
                created_by=user,
                started_at=now,
            )
            result = PredictionsImportResult(run=run)
            _records_import(
                result=result,
                chunks=utf8_chunks(stream, progress=progress),
                fmt=fmt,
                name=name,
                keys=keys,
                language=language,
                skip_unknown=skip_unknown,
            )
            run.total = result.imported
            run.finished_at = timezone.now()
            run.save(update_fields=["total", "finished_at"])
    except IntegrityError:
        # Another import or run took the name meanwhile (the lock covers imports only).
        raise refusal(
            f"project {project.slug!r} already has a run named {run_name!r}; choose another --run-name",
            field="run_name",
        ) from None
    finally:
        stream.close()
    logger.info("run %s imported into %s: %s", run.pk, project.slug, result.summary_line())
    return result


def _records_import(
    *,
    result: PredictionsImportResult,
    chunks: Iterator[str],
    fmt: str,
    name: str,
    keys: list[str],
    language: str,
    skip_unknown: bool,
) -> None:
    """Check every record and write the candidates of the acceptable ones; raises
    ApplicationError listing the problems when any record is refused."""
    run = result.run
    problems = ProblemCollector(name)
    documents = {
        (ext, lang): pk
        for pk, ext, lang in Document.objects.filter(project=run.project)
        .values_list("pk", "external_id", "language")
        .iterator(chunk_size=5000)
    }
    # By document id: repeats of an id that is skipped as unknown are not looked for.
    seen = FirstSeen()
    batch: list[Candidate] = []
    records = 0
    try:
        for raw in read_records(fmt, chunks):
            records += 1
            if raw.error:
                problems.add(raw.error, record=raw.number, line=raw.line, field=raw.field)
                continue
            record, record_problems = prediction_record_parse(
                raw.value, language=language, check_text=raw.may_hold_unstorable
            )
            for field, message in record_problems:
                problems.add(message, record=raw.number, line=raw.line, field=field)
            if record is None:
                continue
            document_id = documents.get((record.external_id, record.language))
            if document_id is None:
                if skip_unknown:
                    result.skipped += 1
                else:
                    problems.add(
                        f"id {record.external_id!r} (language {record.language}) is not in the project; "
                        "import the dataset first, or pass --skip-unknown to skip such records",
                        record=raw.number,
                        line=raw.line,
                        field="patient_id",
                    )
                continue
            duplicate = seen.repeat_of(document_id, record=record, raw=raw)
            if duplicate:
                problems.add(duplicate, record=raw.number, line=raw.line, field="patient_id")
                continue
            if problems.total:
                continue  # keep checking to list more problems, but build nothing more
            batch.append(_candidate(run, document_id, record, keys, result))
            if len(batch) >= BATCH_SIZE:
                Candidate.objects.bulk_create(batch)
                batch = []
    except ReadError as exc:
        problems.add(exc.message, record=exc.record, line=exc.line)
    problems.raise_if_any()
    if batch:
        Candidate.objects.bulk_create(batch)
    if not result.imported:
        raise refusal(
            f"no predictions to import: all {records} records have ids that are not in the project", file=name
        )


def _candidate(
    run: ModelRun, document_id: int, record: PredictionRecord, keys: list[str], result: PredictionsImportResult
) -> Candidate:
    fields = candidate_fields(record, keys)
    result.imported += 1
    if fields.status == CandidateStatus.PARSE_ERROR:
        result.parse_errors += 1
    elif fields.status in (CandidateStatus.TOO_LONG, CandidateStatus.FAILED):
        result.without_output += 1
    return Candidate(run=run, document_id=document_id, **fields.as_dict())


# --- export -------------------------------------------------------------------------------------


def predictions_export_count(*, run: ModelRun) -> tuple[int, int]:
    """``(rows an export writes, pending candidates it leaves out)``."""
    qs = Candidate.objects.filter(run=run)
    pending = qs.filter(status=CandidateStatus.PENDING).count()
    return qs.count() - pending, pending


def predictions_export(*, run: ModelRun, out: IO[str]) -> int:
    """Write the run's processed candidates to the text stream ``out`` as JSON lines,
    in patient_id order (numeric ids numerically, as runs select them); returns the
    number of lines. Holds the candidates' ids in memory, not their values."""
    keys = list(Category.objects.filter(project=run.project).order_by("order", "pk").values_list("key", flat=True))
    rows = Candidate.objects.filter(run=run).exclude(status=CandidateStatus.PENDING)
    order = sorted(
        rows.values_list("document__external_id", "document__language", "pk"),
        key=lambda r: (external_id_order(r[0]), r[1], r[2]),
    )
    written = 0
    for start in range(0, len(order), BATCH_SIZE):
        chunk = [pk for _, _, pk in order[start : start + BATCH_SIZE]]
        found = {
            row[0]: row
            for row in Candidate.objects.filter(pk__in=chunk).values_list(
                "pk", "document__external_id", "document__language", "status", "values", "raw_output"
            )
        }
        for pk in chunk:
            row = found.get(pk)
            if row is None:  # deleted meanwhile
                continue
            _, external_id, language, status, values, raw_output = row
            record = prediction_export_record(
                external_id=external_id,
                language=language,
                status=status,
                values=values,
                raw_output=raw_output,
                keys=keys,
            )
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
    return written
