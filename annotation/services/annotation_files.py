"""``import_annotations`` and ``export_annotations`` (CLI.md "Annotations and agreement").

Import: all or nothing, in the style of ``import_dataset`` (record/line/field problems,
at most 20 listed). Each record becomes a submitted assignment of the named annotator
(who must be a member of the project) with an imported annotation. Re-importing the same
content changes nothing; different content for an existing (document, annotator) is
refused unless ``update``. Validated records are written in batches inside one
transaction holding the project's row lock; any problem rolls everything back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone

from elmtex_site.errors import ApplicationError, Problem, ProblemCollector

from ..models import (
    Annotation,
    AnnotationRevision,
    AnnotationSource,
    Assignment,
    AssignmentStatus,
    Document,
    Membership,
    Project,
)
from ..pipeline.annotations import ParsedAnnotation, export_record, parse_annotation_record, spans_bounds_check
from ..pipeline.readers import ReadError, detect_format, read_records, utf8_chunks
from ..pipeline.records import check_language
from .annotations import annotation_changes, project_keys
from .imports import format_undetected_problem, project_lock, stream_sniff

logger = logging.getLogger(__name__)

BATCH = 1000
FORMATS = ("json", "jsonl")


@dataclass
class AnnotationImportResult:
    new: int = 0
    unchanged: int = 0
    replaced: int = 0
    set_to_na: int = 0

    def summary_line(self) -> str:
        return (
            f"imported {self.new} new, {self.unchanged} unchanged, {self.replaced} replaced "
            f"annotations ({self.set_to_na} values set to N/A)"
        )


@dataclass
class _Pending:
    record: ParsedAnnotation
    number: int
    line: int
    document_id: int
    user_id: int


class _Importer:
    def __init__(self, project: Project, problems: ProblemCollector, update: bool):
        self.project = project
        self.problems = problems
        self.update = update
        self.result = AnnotationImportResult()
        self.keys = project_keys(project)
        self.documents = {
            (ext, lang): (pk, n)
            for pk, ext, lang, n in Document.objects.filter(project=project)
            .annotate(n=Length("text"))
            .values_list("id", "external_id", "language", "n")
            .iterator(chunk_size=5000)
        }
        self.users: dict[str, tuple[int | None, bool]] = {}
        self.seen: dict[tuple, tuple[int, int]] = {}
        self.batch: list[_Pending] = []

    def _user(self, username: str) -> tuple[int | None, bool]:
        if username not in self.users:
            user = get_user_model().objects.filter(username=username).only("id").first()
            member = bool(user) and Membership.objects.filter(project=self.project, user=user).exists()
            self.users[username] = (user.pk if user else None, member)
        return self.users[username]

    def add(self, record: ParsedAnnotation, number: int, line: int) -> None:
        add = self.problems.add
        problems_before = self.problems.total
        doc = self.documents.get((record.external_id, record.language))
        if doc is None:
            add(
                f"no document with id {record.external_id!r} (language {record.language}) in project "
                f"{self.project.slug!r}; import the dataset first",
                record=number,
                line=line,
                field="patient_id",
            )
        user_id, member = self._user(record.annotator)
        if user_id is None:
            add(
                f"no user {record.annotator!r}; create it with add_member --create",
                record=number,
                line=line,
                field="annotator",
            )
        elif not member:
            add(
                f"{record.annotator!r} is not a member of project {self.project.slug!r}; add them with add_member",
                record=number,
                line=line,
                field="annotator",
            )
        if doc is not None:
            for path, message in spans_bounds_check(record.spans, doc[1]):
                add(message, record=number, line=line, field=path)
        key = (record.external_id, record.language, record.annotator)
        first = self.seen.get(key)
        if first is not None:
            add(
                f"duplicate annotation of id {record.external_id!r} (language {record.language}) by "
                f"{record.annotator!r}: also record {first[0]} (line {first[1]})",
                record=number,
                line=line,
                field="patient_id",
            )
            return
        self.seen[key] = (number, line)
        self.result.set_to_na += record.set_to_na
        if self.problems.total > problems_before:
            return
        self.batch.append(_Pending(record, number, line, doc[0], user_id))
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        doc_ids = {p.document_id for p in batch}
        existing = {
            (a.document_id, a.annotator_id): a
            for a in Assignment.objects.filter(project=self.project, document_id__in=doc_ids).select_related(
                "annotation"
            )
        }
        now = timezone.now()
        new_assignments, reused, annotations, replaced = [], [], [], []
        for p in batch:
            r = p.record
            assignment = existing.get((p.document_id, p.user_id))
            annotation = getattr(assignment, "annotation", None) if assignment else None
            if annotation is not None:
                same = (annotation.values, annotation.judgements, annotation.spans) == (r.values, r.judgements, r.spans)
                if same and assignment.status == AssignmentStatus.SUBMITTED:
                    self.result.unchanged += 1
                    continue
                if not self.update:
                    self.problems.add(
                        f"{r.annotator!r} already annotated id {r.external_id!r} (language {r.language}) "
                        "differently; pass --update to replace it",
                        record=p.number,
                        line=p.line,
                        field="values",
                    )
                    continue
                if self.problems.total:
                    continue
                replaced.append((assignment, annotation, r))
                self.result.replaced += 1
                continue
            if self.problems.total:
                continue
            self.result.new += 1
            if assignment is None:
                assignment = Assignment(project=self.project, document_id=p.document_id, annotator_id=p.user_id)
                new_assignments.append(assignment)
            else:
                reused.append(assignment)
            assignment.status = AssignmentStatus.SUBMITTED
            assignment.submitted_at = now
            annotations.append((assignment, r))
        if self.problems.total:
            return
        Assignment.objects.bulk_create(new_assignments, batch_size=BATCH)
        for a in reused:
            a.updated_at = now
        Assignment.objects.bulk_update(reused, ["status", "submitted_at", "updated_at"], batch_size=BATCH)
        Annotation.objects.bulk_create(
            [
                Annotation(
                    assignment=a,
                    values=r.values,
                    judgements=r.judgements,
                    spans=r.spans,
                    source=AnnotationSource.IMPORTED,
                )
                for a, r in annotations
            ],
            batch_size=BATCH,
        )
        self._replace(replaced, now)

    def _replace(self, replaced: list, now) -> None:
        revisions = []
        for assignment, annotation, r in replaced:
            changes = {
                **annotation_changes(old=annotation.values, new=r.values, prefix="values"),
                **annotation_changes(old=annotation.judgements, new=r.judgements, prefix="judgements"),
                **annotation_changes(old=annotation.spans, new=r.spans, prefix="spans"),
            }
            if assignment.status != AssignmentStatus.SUBMITTED:
                changes["status"] = [assignment.status, AssignmentStatus.SUBMITTED]
                assignment.status = AssignmentStatus.SUBMITTED
                assignment.submitted_at = now
            assignment.updated_at = now
            annotation.values, annotation.judgements, annotation.spans = r.values, r.judgements, r.spans
            annotation.source = AnnotationSource.IMPORTED
            annotation.version += 1
            annotation.updated_at = now
            revisions.append(AnnotationRevision(annotation=annotation, version=annotation.version, changes=changes))
        if replaced:
            Assignment.objects.bulk_update(
                [a for a, _, _ in replaced], ["status", "submitted_at", "updated_at"], batch_size=BATCH
            )
            Annotation.objects.bulk_update(
                [n for _, n, _ in replaced],
                ["values", "judgements", "spans", "source", "version", "updated_at"],
                batch_size=BATCH,
            )
            AnnotationRevision.objects.bulk_create(revisions, batch_size=BATCH)


def annotations_import(
    *,
    project: Project,
    stream: IO[bytes],
    name: str,
    fmt: str = "auto",
    language: str = "en",
    update: bool = False,
    progress: Callable[[int], None] | None = None,
) -> AnnotationImportResult:
    """Import annotation records (JSON array or JSON lines) into ``project``; raises
    ApplicationError listing the problems (nothing written) when any record is refused."""
    problem = check_language(language)
    if problem:
        raise ApplicationError(f"language: {problem}", problems=[Problem(problem, field="language")])
    if fmt == "auto":
        fmt = detect_format(name, b"")
        if fmt is None:
            head, stream = stream_sniff(stream)
            fmt = detect_format(name, head)
            if fmt is None:
                msg = format_undetected_problem(head, stream)
                raise ApplicationError(f"{name}: {msg}", problems=[Problem(msg, file=name)])
    if fmt not in FORMATS:
        msg = f"annotations are read from JSON ({', '.join(FORMATS)}), not {fmt}"
        raise ApplicationError(f"{name}: {msg}", problems=[Problem(msg, file=name)])
    problems = ProblemCollector(name)
    with transaction.atomic():
        project_lock(project)
        importer = _Importer(project, problems, update)
        try:
            for raw in read_records(fmt, utf8_chunks(stream, progress=progress)):
                if raw.error:
                    problems.add(raw.error, record=raw.number, line=raw.line, field=raw.field)
                    continue
                record, found = parse_annotation_record(raw.value, keys=importer.keys, language=language)
                for path, message in found:
                    problems.add(message, record=raw.number, line=raw.line, field=path or None)
                if record is not None:
                    importer.add(record, raw.number, raw.line)
        except ReadError as exc:
            problems.add(exc.message, record=exc.record, line=exc.line)
        importer.flush()
        problems.raise_if_any()
    result = importer.result
    logger.info("annotation import into %s: %s", project.pk, result.summary_line())
    return result


def annotations_for_export(*, project: Project, language: str | None = None, annotator: str | None = None):
    qs = Annotation.objects.filter(
        assignment__project=project, assignment__status=AssignmentStatus.SUBMITTED
    ).select_related("assignment__document", "assignment__annotator")
    qs = qs.defer("assignment__document__text", "assignment__document__metadata", "draft")
    if language:
        qs = qs.filter(assignment__document__language=language)
    if annotator:
        qs = qs.filter(assignment__annotator__username=annotator)
    return qs.order_by(
        "assignment__document__external_id", "assignment__document__language", "assignment__annotator__username"
    )


def annotations_export_lines(
    *, project: Project, language: str | None = None, annotator: str | None = None
) -> Iterator[str]:
    """JSON lines of the submitted annotations, in the shape ``import_annotations`` reads."""
    keys = project_keys(project)
    for a in annotations_for_export(project=project, language=language, annotator=annotator).iterator(chunk_size=2000):
        record = export_record(
            external_id=a.assignment.document.external_id,
            language=a.assignment.document.language,
            annotator=a.assignment.annotator.username,
            values=a.values,
            judgements=a.judgements,
            spans=a.spans,
            keys=keys,
        )
        yield json.dumps(record, ensure_ascii=False) + "\n"
