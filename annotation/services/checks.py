"""Automated checks: run the pure checks of :mod:`annotation.checks` over gold, model
candidates and annotations and store the findings as :class:`CheckResult` rows.

Each run replaces the stored findings of what it checked (delete + bulk insert, per
chunk of documents, in one transaction per chunk). What is checked:

- ``gold``: every gold record, plus, for a translated document (``translation_of`` set),
  the report length against the original's and the gold values against the original's
  gold. ``target_id`` is the document id (also for a translation without gold).
- ``candidate``: every candidate with parsed values (failed ones have none), of one run or
  of all the project's runs.
- ``annotation``: the annotations of submitted assignments (``checks_annotation_run``
  checks any annotation it is given: F calls it after submit).

The report of a document is prepared once for all its targets (normalised text, word set,
a memo of items already looked up).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable

from django.db import connection, transaction
from django.utils import timezone

from elmtex_site.errors import ApplicationError

from .. import checks as pure
from ..models import (
    Annotation,
    AnnotationSettings,
    AssignmentStatus,
    CheckResult,
    CheckTarget,
    Document,
    Gold,
    Project,
)

logger = logging.getLogger(__name__)

DEFAULT_TARGETS = ("gold", "candidate", "annotation")
CHUNK_DOCUMENTS = 500


def checks_targets_parse(*, targets: Iterable[str] | str) -> tuple[str, ...]:
    """``"gold,candidate"`` or an iterable -> validated tuple in canonical order."""
    if isinstance(targets, str):
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    targets = list(targets)
    unknown = [t for t in targets if t not in CheckTarget.values]
    if unknown or not targets:
        raise ApplicationError(
            f"unknown check target {', '.join(map(repr, unknown)) or '(none)'}: "
            f"choose from {', '.join(CheckTarget.values)} (comma-separated)"
        )
    return tuple(t for t in CheckTarget.values if t in targets)


def checks_config(*, project: Project) -> pure.CheckConfig:
    threshold = AnnotationSettings.objects.filter(project=project).values_list("grounding_threshold", flat=True).first()
    return pure.CheckConfig(grounding_threshold=threshold if threshold is not None else 90)


def _keys(project: Project) -> list[str]:
    return list(project.categories.order_by("order", "id").values_list("key", flat=True))


def _rows(project_id: int, document_id: int, target: str, target_id: int, findings) -> list[CheckResult]:
    return [
        CheckResult(
            project_id=project_id,
            document_id=document_id,
            target=target,
            target_id=target_id,
            category=f.category,
            code=f.code,
            severity=f.severity,
            message=f.message,
            details=f.details,
        )
        for f in findings
    ]


_COPY_COLUMNS = (
    "project_id", "document_id", "target", "target_id", "category", "code", "severity", "message", "details",
    "created_at",
)  # fmt: skip


def _insert(rows: list[CheckResult], *, returning: bool) -> list[CheckResult]:
    """bulk_create, or on PostgreSQL for the bulk runs ``COPY`` (3-4x faster for tens of
    thousands of rows; nothing is returned then)."""
    if returning or connection.vendor != "postgresql" or not rows:
        return CheckResult.objects.bulk_create(rows, batch_size=1000)
    now = timezone.now()
    table = connection.ops.quote_name(CheckResult._meta.db_table)
    sql = f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for r in rows:
            copy.write_row(
                (r.project_id, r.document_id, r.target, r.target_id, r.category, r.code, r.severity, r.message,
                 json.dumps(r.details, ensure_ascii=False), now)
            )  # fmt: skip
    return []


LOCK_NAMESPACE = 0x43484B  # "CHK": advisory locks of the checks, one per project


def _lock_project(project_id: int) -> None:
    """Serialise delete + insert of one project's findings until the transaction ends (two
    runs at once would otherwise both insert: READ COMMITTED deletes miss uncommitted rows).
    PostgreSQL only; SQLite writes one transaction at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s::int4, %s::int4)", [LOCK_NAMESPACE, project_id % 2**31])


def _replace(
    *,
    project_id: int,
    target: str,
    rows: list[CheckResult],
    target_ids: list[int] | None = None,
    document_ids: list[int] | None = None,
    returning: bool = True,
) -> list[CheckResult]:
    """Delete the stored findings of ``target_ids`` (or of every record of ``target`` on
    ``document_ids``: also those of deleted candidates and annotations) and insert ``rows``,
    in one transaction."""
    stale = CheckResult.objects.filter(project_id=project_id, target=target)
    with transaction.atomic():
        _lock_project(project_id)
        if document_ids:
            stale.filter(document_id__in=document_ids).delete()
        elif target_ids:
            stale.filter(target_id__in=target_ids).delete()
        return _insert(rows, returning=returning)


class _Checker:
    """One project's keys and config; reports prepared once per document."""

    def __init__(self, project: Project):
        self.project = project
        self.keys = _keys(project)
        self.config = checks_config(project=project)
        self.reports: dict[int, pure.Report] = {}

    def report(self, document_id: int, text: str) -> pure.Report:
        report = self.reports.get(document_id)
        if report is None:
            report = self.reports[document_id] = pure.Report(text)
        return report

    def record(self, *, document_id: int, text: str, language: str, values) -> list[pure.Finding]:
        if not isinstance(values, dict):
            return [pure.Finding("not_text", "", pure.ERROR, "the record is not a JSON object of values")]
        report = self.report(document_id, text)
        return pure.check_record(report=report, values=values, keys=self.keys, language=language, config=self.config)

    def gold(self, *, doc: dict, values, original: dict | None) -> list[pure.Finding]:
        findings = []
        if values is not None:
            findings += self.record(document_id=doc["id"], text=doc["text"], language=doc["language"], values=values)
        if original is not None:
            findings += pure.check_translation(
                text=doc["text"],
                original_text=original["text"],
                values=values if isinstance(values, dict) else None,
                original_values=original.get("gold"),
                keys=self.keys,
                config=self.config,
            )
        return findings


def _candidate_model():
    from django.apps import apps  # inference imports annotation, never the other way round

    return apps.get_model("inference", "Candidate")


def _originals(doc_rows: list[dict]) -> dict[int, dict]:
    ids = {d["translation_of_id"] for d in doc_rows if d["translation_of_id"]}
    if not ids:
        return {}
    originals = {d["id"]: d for d in Document.objects.filter(id__in=ids).values("id", "text")}
    for document_id, values in Gold.objects.filter(document_id__in=ids).values_list("document_id", "values"):
        originals[document_id]["gold"] = values
    return originals


def _chunk_run(*, checker: _Checker, doc_ids: list[int], targets: tuple[str, ...], run, counts: dict) -> None:
    project = checker.project
    checker.reports.clear()
    docs = {
        d["id"]: d
        for d in Document.objects.filter(id__in=doc_ids).values("id", "text", "language", "translation_of_id")
    }
    if "gold" in targets:
        originals = _originals(list(docs.values()))
        gold = dict(Gold.objects.filter(document_id__in=doc_ids).values_list("document_id", "values"))
        rows = []
        for doc_id, doc in docs.items():
            original = originals.get(doc["translation_of_id"])
            findings = checker.gold(doc=doc, values=gold.get(doc_id), original=original)
            rows += _rows(project.pk, doc_id, "gold", doc_id, findings)
        _replace(project_id=project.pk, target="gold", document_ids=list(docs), rows=rows, returning=False)
        counts["gold"] += len(gold)
        counts["findings"].update(r.code for r in rows)
        counts["by_target"]["gold"] += len(rows)
    if "candidate" in targets:
        qs = _candidate_model().objects.filter(document_id__in=doc_ids, run__project=project)
        if run is not None:
            qs = qs.filter(run=run)
        cands = list(qs.values_list("id", "document_id", "values"))
        rows = []
        for cand_id, doc_id, values in cands:
            if values is None:
                continue
            doc = docs[doc_id]
            findings = checker.record(document_id=doc_id, text=doc["text"], language=doc["language"], values=values)
            rows += _rows(project.pk, doc_id, "candidate", cand_id, findings)
            counts["candidate"] += 1
        # One run: its candidates' findings only; all runs: every candidate finding on these documents.
        where = {"target_ids": [c[0] for c in cands]} if run is not None else {"document_ids": list(docs)}
        _replace(project_id=project.pk, target="candidate", rows=rows, returning=False, **where)
        counts["findings"].update(r.code for r in rows)
        counts["by_target"]["candidate"] += len(rows)
    if "annotation" in targets:
        anns = list(
            Annotation.objects.filter(
                assignment__document_id__in=doc_ids, assignment__status=AssignmentStatus.SUBMITTED
            ).values_list("id", "assignment__document_id", "values")
        )
        rows = []
        for ann_id, doc_id, values in anns:
            doc = docs[doc_id]
            findings = checker.record(document_id=doc_id, text=doc["text"], language=doc["language"], values=values)
            rows += _rows(project.pk, doc_id, "annotation", ann_id, findings)
            counts["annotation"] += 1
        _replace(project_id=project.pk, target="annotation", document_ids=list(docs), rows=rows, returning=False)
        counts["findings"].update(r.code for r in rows)
        counts["by_target"]["annotation"] += len(rows)


def checks_run(
    *,
    project: Project,
    targets: Iterable[str] = DEFAULT_TARGETS,
    run=None,
    document_ids: list[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Re-check the project's gold, candidates (of ``run``, or of all runs) and/or submitted
    annotations; replaces their stored findings. ``progress(done, total)`` in documents.

    Returns ``{"targets", "run", "documents", "checked": {target: records},
    "findings": {target: n}, "by_code": {code: n}}``.
    """
    targets = checks_targets_parse(targets=targets)
    if run is not None and run.project_id != project.pk:
        raise ApplicationError(f"run {run.name!r} belongs to another project, not {project.slug!r}")
    qs = Document.objects.filter(project=project)
    if document_ids is not None:
        qs = qs.filter(id__in=document_ids)
    if run is not None and targets == ("candidate",):
        qs = qs.filter(candidates__run=run)
    all_ids = list(qs.order_by("id").values_list("id", flat=True).distinct())
    checker = _Checker(project)
    counts = {t: 0 for t in targets} | {"findings": Counter(), "by_target": Counter()}
    total = len(all_ids)
    if progress:
        progress(0, total)
    for start in range(0, total, CHUNK_DOCUMENTS):
        chunk = all_ids[start : start + CHUNK_DOCUMENTS]
        _chunk_run(checker=checker, doc_ids=chunk, targets=targets, run=run, counts=counts)
        if progress:
            progress(start + len(chunk), total)
    logger.info("checks project=%s targets=%s documents=%s", project.pk, ",".join(targets), total)
    return {
        "project": project.slug,
        "targets": list(targets),
        "run": run.name if run is not None else None,
        "documents": total,
        "checked": {t: counts[t] for t in targets},
        "findings": {t: counts["by_target"][t] for t in targets},
        "by_code": dict(sorted(counts["findings"].items())),
    }


def checks_annotation_run(*, annotation: Annotation) -> list[CheckResult]:
    """Re-check one annotation (after a save or submit); replaces its stored findings."""
    assignment = annotation.assignment
    document = assignment.document
    checker = _Checker(assignment.project)
    findings = checker.record(
        document_id=document.pk, text=document.text, language=document.language, values=annotation.values
    )
    rows = _rows(assignment.project_id, document.pk, "annotation", annotation.pk, findings)
    return _replace(project_id=assignment.project_id, target="annotation", target_ids=[annotation.pk], rows=rows)


def checks_gold_run(*, document: Document) -> list[CheckResult]:
    """Re-check one document's gold (after adjudication), with the translation checks for a
    translated document; replaces its stored findings."""
    checker = _Checker(document.project)
    values = Gold.objects.filter(document=document).values_list("values", flat=True).first()
    doc = {"id": document.pk, "text": document.text, "language": document.language}
    original = None
    if document.translation_of_id:
        original = _originals([{"translation_of_id": document.translation_of_id}]).get(document.translation_of_id)
    rows = _rows(
        document.project_id, document.pk, "gold", document.pk, checker.gold(doc=doc, values=values, original=original)
    )
    return _replace(project_id=document.project_id, target="gold", target_ids=[document.pk], rows=rows)


def checks_candidate_run(*, candidate) -> list[CheckResult]:
    """Re-check one model candidate; replaces its stored findings (none when it has no values)."""
    document = candidate.document
    project = document.project
    rows = []
    if candidate.values is not None:
        findings = _Checker(project).record(
            document_id=document.pk, text=document.text, language=document.language, values=candidate.values
        )
        rows = _rows(project.pk, document.pk, "candidate", candidate.pk, findings)
    return _replace(project_id=project.pk, target="candidate", target_ids=[candidate.pk], rows=rows)


def checks_delete(*, project: Project, targets: Iterable[str] = DEFAULT_TARGETS) -> int:
    """Drop stored findings of the targets (not needed by checks_run, which replaces)."""
    deleted, _ = CheckResult.objects.filter(project=project, target__in=checks_targets_parse(targets=targets)).delete()
    return deleted


__all__ = [
    "DEFAULT_TARGETS",
    "checks_annotation_run",
    "checks_candidate_run",
    "checks_config",
    "checks_delete",
    "checks_gold_run",
    "checks_run",
    "checks_targets_parse",
]
