"""Dataset import (CLI.md ``import_dataset``): all-or-nothing, streaming, idempotent.

The file is read as a stream of records (``annotation.pipeline``), validated one by
one and written in bulk batches inside a single transaction. Any problem anywhere
rolls everything back, after the whole file was read so that up to 20 problems can be
listed at once. Memory stays constant apart from the set of ids seen (needed to find
duplicates) and the ids already in the project. Imports into one project take turns
(a lock on the project's row), so each sees the ids the one before it wrote.
"""

from __future__ import annotations

import codecs
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from elmtex_site.errors import ApplicationError, NotFound, Problem, ProblemCollector

from ..models import Document, Gold, GoldOrigin, GoldRevision, Project
from ..pipeline.readers import FORMATS, ReadError, detect_format, read_records, utf8_chunks
from ..pipeline.records import (
    CSV_COLUMNS,
    FirstSeen,
    ParsedRecord,
    RecordOptions,
    check_language,
    metadata_hash,
    normalise_split,
    parse_record,
)
from .bulk import BATCH_SIZE, documents_insert, gold_insert, statistics_refresh

logger = logging.getLogger(__name__)

ORIGINAL_LANGUAGE = "en"


@dataclass
class ImportResult:
    new: int = 0
    unchanged: int = 0
    replaced: int = 0
    set_to_na: int = 0
    dropped: int = 0

    def summary_line(self) -> str:
        return (
            f"imported {self.new} new, {self.unchanged} unchanged, {self.replaced} replaced "
            f"({self.set_to_na} values set to N/A, {self.dropped} dropped)"
        )

    def as_dict(self) -> dict:
        return {
            "new": self.new,
            "unchanged": self.unchanged,
            "replaced": self.replaced,
            "set_to_na": self.set_to_na,
            "dropped": self.dropped,
            "summary": self.summary_line(),
        }


@dataclass
class _Existing:
    id: int
    content_hash: str
    metadata_hash: str | None
    adjudicated: bool

    def same_as(self, record: ParsedRecord) -> bool:
        return self.content_hash == record.content_hash and (
            record.metadata_hash is None or record.metadata_hash == self.metadata_hash
        )


def _existing_documents(project: Project) -> dict[tuple[str, str], _Existing]:
    rows = Document.objects.filter(project=project).values_list(
        "id", "external_id", "language", "content_hash", "metadata", "gold__origin"
    )
    return {
        (ext, lang): _Existing(pk, h, metadata_hash(meta), origin == GoldOrigin.ADJUDICATED)
        for pk, ext, lang, h, meta, origin in rows.iterator(chunk_size=5000)
    }


class _Writer:
    """Buffers new and replaced documents and writes them in bulk."""

    def __init__(self, project: Project, source: str):
        self.project = project
        self.provenance = {"source": "import", "file": source}
        self.new: list[ParsedRecord] = []
        self.replace: list[tuple[_Existing, ParsedRecord]] = []

    def add_new(self, record: ParsedRecord) -> None:
        self.new.append(record)
        if len(self.new) >= BATCH_SIZE:
            self.flush()

    def add_replace(self, existing: _Existing, record: ParsedRecord) -> None:
        self.replace.append((existing, record))
        if len(self.replace) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.new:
            ids = documents_insert(project_id=self.project.pk, records=self.new)
            gold_insert(
                rows=[(pk, r.summary) for pk, r in zip(ids, self.new, strict=True) if r.summary is not None],
                origin=GoldOrigin.IMPORTED,
                provenance=self.provenance,
            )
            self.new = []
        if self.replace:
            now = timezone.now()
            fields = ["text", "split", "content_hash", "updated_at"]
            for with_metadata in (True, False):
                # A record without metadata keeps the document's metadata.
                docs = [
                    Document(
                        pk=existing.id,
                        text=r.report,
                        split=r.split,
                        metadata=r.metadata,
                        content_hash=r.content_hash,
                        updated_at=now,
                    )
                    for existing, r in self.replace
                    if bool(r.metadata) == with_metadata
                ]
                if docs:
                    Document.objects.bulk_update(
                        docs, [*fields, "metadata"] if with_metadata else fields, batch_size=BATCH_SIZE
                    )
            self._gold_replace(now)
            self.replace = []

    def _gold_replace(self, now) -> None:
        """Adjudicated gold is never overwritten by an import; imported gold is updated in
        place with its version raised (a reviewer who started from the old version gets a
        409) and a GoldRevision saying what changed."""
        replaceable = {e.id: r for e, r in self.replace if not e.adjudicated}
        old = {g.pk: g for g in Gold.objects.filter(document_id__in=replaceable)}
        gone = [pk for pk, r in replaceable.items() if pk in old and r.summary is None]
        Gold.objects.filter(document_id__in=gone).delete()
        updated, created, revisions = [], [], []
        for pk, r in replaceable.items():
            if r.summary is None:
                continue
            gold = old.get(pk)
            if gold is None:
                created.append(
                    Gold(document_id=pk, values=r.summary, origin=GoldOrigin.IMPORTED, provenance=self.provenance)
                )
                continue
            changes = {
                key: [gold.values.get(key), r.summary.get(key)]
                for key in dict.fromkeys([*gold.values, *r.summary])
                if gold.values.get(key) != r.summary.get(key)
            }
            if not changes:
                continue
            gold.values, gold.provenance, gold.origin = r.summary, self.provenance, GoldOrigin.IMPORTED
            gold.version += 1
            gold.updated_at = now
            updated.append(gold)
            revisions.append(
                GoldRevision(
                    document_id=pk,
                    version=gold.version,
                    origin=GoldOrigin.IMPORTED,
                    changes=changes,
                    provenance=self.provenance,
                )
            )
        Gold.objects.bulk_update(
            updated, ["values", "provenance", "origin", "version", "updated_at"], batch_size=BATCH_SIZE
        )
        Gold.objects.bulk_create(created, batch_size=BATCH_SIZE)
        GoldRevision.objects.bulk_create(revisions, batch_size=BATCH_SIZE)


def translations_link(*, project: Project) -> int:
    """Link every unlinked non-English document to the English one with the same id.

    Only documents that have such an original are touched, so an import does not rewrite
    every unlinked translation of the project each time.
    """
    original = Document.objects.filter(
        project=project, language=ORIGINAL_LANGUAGE, external_id=OuterRef("external_id")
    ).values("id")
    return (
        Document.objects.filter(project=project, translation_of__isnull=True)
        .exclude(language=ORIGINAL_LANGUAGE)
        .filter(Exists(original))
        .update(translation_of=Subquery(original[:1]))
    )


SNIFF_BYTES = 1 << 20


class _Prefixed:
    """A binary stream that first replays ``head`` (bytes already read), then ``rest``."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self.head, self.rest = head, rest

    def read(self, n: int = -1) -> bytes:
        if not self.head:
            return self.rest.read(n)
        if n is None or n < 0:
            data, self.head = self.head + self.rest.read(), b""
            return data
        data, self.head = self.head[:n], self.head[n:]
        return data


def stream_sniff(stream: IO[bytes]) -> tuple[bytes, IO[bytes]]:
    """Read up to the first non-space byte (at most SNIFF_BYTES) without losing anything:
    returns those bytes and a stream that reads the whole input from its start. Works on
    pipes (standard input), which cannot seek."""
    head = b""
    while len(head) < SNIFF_BYTES:
        data = stream.read(64 * 1024)
        if not data:
            break
        head += data
        if head.removeprefix(codecs.BOM_UTF8).lstrip():
            break
    return head, _Prefixed(head, stream)


def format_undetected_problem(head: bytes, stream: IO[bytes]) -> str:
    """Why ``--format auto`` failed: an empty file, a wrong encoding, or an unknown shape."""
    if not head.removeprefix(codecs.BOM_UTF8).strip():
        return "no records"
    try:
        next(utf8_chunks(stream), None)  # decodes the first chunk only; we refuse anyway
    except ReadError as exc:
        return exc.message
    return (
        "cannot tell the format: the first character is neither '[' nor '{'; name the file "
        ".json, .jsonl or .csv, or pass --format"
    )


def dataset_import(
    *,
    project: Project,
    stream: IO[bytes],
    name: str,
    fmt: str = "auto",
    language: str = "en",
    split: str = "none",
    drop_unknown: bool = False,
    update: bool = False,
    size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import the records of ``stream`` (named ``name`` in messages) into ``project``.

    Raises ApplicationError listing the problems (nothing written) when any record is
    refused. ``progress`` is called with the number of bytes read so far, chunk by chunk.
    """
    problem = check_language(language)
    if problem:
        raise _option_error("language", problem)
    split_value, problem = normalise_split(split)
    if problem:
        raise _option_error("split", problem)
    limit = settings.ELMTEX_IMPORT_MAX_BYTES
    if size is not None and limit and size > limit:
        raise ApplicationError(
            f"{name}: file is {size} bytes, over the limit of {limit} bytes "
            "(ELMTEX_IMPORT_MAX_BYTES); split the file or raise the limit",
            problems=[
                Problem(
                    f"file is {size} bytes, over the limit of {limit} bytes "
                    "(ELMTEX_IMPORT_MAX_BYTES); split the file or raise the limit",
                    file=name,
                )
            ],
        )
    if fmt == "auto":
        fmt = detect_format(name, b"")
        if fmt is None:
            head, stream = stream_sniff(stream)
            fmt = detect_format(name, head)
            if fmt is None:
                msg = format_undetected_problem(head, stream)
                raise ApplicationError(f"{name}: {msg}", problems=[Problem(msg, file=name)])
    if fmt not in FORMATS:
        raise _option_error("format", f"expected auto, {', '.join(FORMATS)}, got {fmt!r}")

    schema_keys = tuple(project.categories.order_by("order").values_list("key", flat=True))
    opts = RecordOptions(
        schema_keys=schema_keys, language=language, split=split_value, drop_unknown=drop_unknown, csv=fmt == "csv"
    )
    read_bytes = 0

    def count_bytes(n: int) -> None:
        nonlocal read_bytes
        read_bytes += n
        if limit and read_bytes > limit:
            raise ReadError(f"file is over the limit of {limit} bytes (ELMTEX_IMPORT_MAX_BYTES)")
        if progress is not None:
            progress(n)

    try:
        with transaction.atomic():
            # Concurrent imports into one project take turns: each reads the ids already
            # there only after the one before it has committed.
            project_lock(project)
            result = _records_import(
                project=project,
                chunks=utf8_chunks(stream, progress=count_bytes),
                name=name,
                fmt=fmt,
                opts=opts,
                update=update,
            )
    except IntegrityError as exc:
        # The lock above keeps imports apart; another writer (an edit, or an import on a
        # database without row locks) can still add a clashing row meanwhile. The
        # database's message may quote record content: it goes to no one, not even the log.
        diag = getattr(exc.__cause__, "diag", None)
        constraint = getattr(diag, "constraint_name", None) or "unknown"
        logger.info("import into %s refused by the database (constraint %s)", project.slug, constraint)
        problem = (
            "the database refused the records: documents of the project changed while the file was "
            "imported (another import or an edit added the same ids); nothing was written; run the import again"
        )
        raise ApplicationError(f"import refused: {name}: {problem}", problems=[Problem(problem, file=name)]) from None
    statistics_refresh(result.new + result.replaced)
    logger.info("import into %s: %s", project.slug, result.summary_line())
    return result


def _option_error(option: str, problem: str) -> ApplicationError:
    """A bad option (CLI flag ``--option``, API field ``option``), named as a field."""
    return ApplicationError(f"{option}: {problem}", problems=[Problem(problem, field=option)])


def project_lock(project: Project) -> None:
    """Lock the project's row until the transaction ends (a no-op on SQLite, where the
    database lock serialises writers). Call inside a transaction. Dataset and predictions
    imports take it, so imports into one project take turns."""
    try:
        Project.objects.select_for_update().get(pk=project.pk)
    except Project.DoesNotExist:
        raise NotFound(f"project {project.slug!r} does not exist any more; nothing was written") from None


def _records_import(
    *, project: Project, chunks: Iterator[str], name: str, fmt: str, opts: RecordOptions, update: bool
) -> ImportResult:
    """Validate every record and write the acceptable ones; raises ApplicationError
    listing the problems when any record is refused. Call inside the import's
    transaction, holding the project's row lock."""
    problems = ProblemCollector(name)
    result = ImportResult()
    existing = _existing_documents(project)
    writer = _Writer(project, os.path.basename(name))
    seen = FirstSeen()
    header_checked = fmt != "csv"
    try:
        for raw in read_records(fmt, chunks):
            if raw.error:
                problems.add(raw.error, record=raw.number, line=raw.line, field=raw.field)
                continue
            if not header_checked:
                # Unknown CSV columns are reported once, for the header, not for every row.
                header_checked = True
                if _csv_header_check(raw, opts, problems):
                    break
            record, record_problems = parse_record(raw.value, opts, check_text=raw.may_hold_unstorable)
            for field, message in record_problems:
                problems.add(message, record=raw.number, line=raw.line, field=field)
            if record is None:
                continue
            key = (record.external_id, record.language)
            duplicate = seen.repeat_of(key, record=record, raw=raw)
            if duplicate:
                problems.add(duplicate, record=raw.number, line=raw.line, field="patient_id")
                continue
            # The counts describe how the file was read, whatever happens to the record,
            # so a re-import reports what the first import did.
            result.set_to_na += record.set_to_na
            result.dropped += record.dropped
            known = existing.get(key)
            if known is not None and known.same_as(record):
                result.unchanged += 1
                continue
            if known is not None and not update:
                problems.add(
                    f"id {record.external_id!r} (language {record.language}) is already in "
                    "the project with different content; pass --update to replace it",
                    record=raw.number,
                    line=raw.line,
                    field="patient_id",
                )
                continue
            if problems.total:
                continue  # keep validating to list more problems, but write nothing more
            if known is None:
                writer.add_new(record)
                result.new += 1
            else:
                writer.add_replace(known, record)
                result.replaced += 1
    except ReadError as exc:
        problems.add(exc.message, record=exc.record, line=exc.line)
    problems.raise_if_any()
    writer.flush()
    if result.new or result.replaced:
        translations_link(project=project)
    return result


def _csv_header_check(raw, opts: RecordOptions, problems: ProblemCollector) -> bool:
    """Report the CSV columns that are not schema keys (unless dropped); True if any."""
    unknown = [c for c in raw.value if c not in CSV_COLUMNS and c not in opts.schema_keys]
    if not unknown or opts.drop_unknown:
        return False
    for column in unknown:
        if column:
            problems.add(
                "unknown column (not in the project schema; use --drop-unknown to drop it)",
                line=raw.header_line,
                field=column,
            )
        else:
            problems.add(
                "a column without a name (a trailing comma?); name it after a schema key or use "
                "--drop-unknown to drop it",
                line=raw.header_line,
            )
    return True


def dataset_import_upload(
    *, project: Project, upload, fmt: str, language: str, split: str, drop_unknown: bool, update: bool
) -> ImportResult:
    """Import a Django ``UploadedFile`` (API and web form).

    The upload's own file object (a temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE) is
    streamed; the file is never read whole into memory.
    """
    return dataset_import(
        project=project,
        stream=upload.file,
        name=upload.name,
        fmt=fmt,
        language=language,
        split=split,
        drop_unknown=drop_unknown,
        update=update,
        size=upload.size,
    )
