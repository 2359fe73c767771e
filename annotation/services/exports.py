"""Gold export (CLI.md ``export_gold``): streaming, constant memory, round-trips.

Records are written in the ELMTEX shape with the key order ``patient_id, language,
split, report, summary`` and summary keys in schema order, so importing an export gives
back the same records.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

from elmtex_site.errors import ApplicationError

from ..models import Document, GoldOrigin, Project
from ..pipeline.records import check_language, normalise_split

EXPORT_FORMATS = ("jsonl", "json", "csv")
CHUNK = 2000


@dataclass(frozen=True)
class GoldFilter:
    language: str | None = None
    split: str | None = None
    only_adjudicated: bool = False


def gold_documents(*, project: Project, filters: GoldFilter):
    qs = Document.objects.filter(project=project, gold__isnull=False)
    if filters.language:
        qs = qs.filter(language=filters.language)
    if filters.split:
        qs = qs.filter(split=filters.split)
    if filters.only_adjudicated:
        qs = qs.filter(gold__origin=GoldOrigin.ADJUDICATED)
    return qs.order_by("id")


def gold_records(*, project: Project, filters: GoldFilter, with_metadata: bool = False) -> Iterator[dict]:
    """ELMTEX-shaped records, one per document with gold, read in chunks.

    Chunks are fetched by keyset (``id > last``) rather than with a server-side cursor:
    constant memory, no long-lived cursor, and each chunk is an index range scan.
    """
    keys = list(project.categories.order_by("order").values_list("key", flat=True))
    fields = ["external_id", "language", "split", "text", "gold__values", "metadata", "id"]
    if not with_metadata:
        fields.remove("metadata")
    documents = gold_documents(project=project, filters=filters)
    last_id = 0
    while True:
        rows = list(documents.filter(id__gt=last_id).values_list(*fields)[:CHUNK])
        if not rows:
            return
        last_id = rows[-1][-1]
        yield from _records(rows, keys, with_metadata)


def _records(rows, keys: list[str], with_metadata: bool) -> Iterator[dict]:
    for row in rows:
        values = row[4]
        record = {
            "patient_id": row[0],
            "language": row[1],
            "split": row[2],
            "report": row[3],
            "summary": {k: values.get(k, "N/A") for k in keys},
        }
        if with_metadata:
            for k, v in row[5].items():
                record.setdefault(k, v)
        yield record


def _counted(records: Iterator[dict], on_record: Callable[[], None]) -> Iterator[dict]:
    for record in records:
        on_record()
        yield record


def gold_export_check(*, fmt: str, with_metadata: bool = False, prefix: str = "--") -> None:
    """Refuse options that cannot be honoured, before anything is written.

    ``prefix`` is put before the option names in messages: ``--`` for the CLI's flags,
    ``""`` for the query parameters of the export page.
    """
    if fmt not in EXPORT_FORMATS:
        raise ApplicationError(f"{prefix}format: expected one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    if with_metadata and fmt == "csv":
        raise ApplicationError(
            f"{prefix}with-metadata: not available for csv; metadata has no columns (use {prefix}format jsonl or json)"
        )


def gold_filter_build(
    *, language: str | None = None, split: str | None = None, only_adjudicated: bool = False, prefix: str = "--"
) -> GoldFilter:
    """Check the language and split options (None = any) and build the filter.

    ``prefix`` as in :func:`gold_export_check`. Split aliases (``validation``, ``dev``)
    are accepted as the import accepts them.
    """
    if split is not None:
        split, problem = normalise_split(split)
        if problem:
            raise ApplicationError(f"{prefix}split: {problem}")
    if language is not None and (problem := check_language(language)):
        raise ApplicationError(f"{prefix}language: {problem}")
    return GoldFilter(language=language, split=split, only_adjudicated=only_adjudicated)


def gold_chunks(
    *,
    project: Project,
    fmt: str = "jsonl",
    filters: GoldFilter = GoldFilter(),
    with_metadata: bool = False,
    on_record: Callable[[], None] | None = None,
) -> Iterator[str]:
    """The export as text chunks: one per record, plus the format's opening and closing.

    The options are checked now (ApplicationError before anything is produced); the
    records are read lazily, chunk by chunk, as the returned iterator is consumed, so a
    caller that streams the chunks (a file, an HTTP response) uses constant memory.
    ``on_record`` is called once per record, before its chunk is produced.
    """
    gold_export_check(fmt=fmt, with_metadata=with_metadata)
    records = gold_records(project=project, filters=filters, with_metadata=with_metadata)
    if on_record is not None:
        records = _counted(records, on_record)
    if fmt == "jsonl":
        return _jsonl_chunks(records)
    if fmt == "json":
        return _json_chunks(records)
    keys = list(project.categories.order_by("order").values_list("key", flat=True))
    return _csv_chunks(records, keys)


def _jsonl_chunks(records: Iterator[dict]) -> Iterator[str]:
    for record in records:
        yield json.dumps(record, ensure_ascii=False) + "\n"


def _json_chunks(records: Iterator[dict]) -> Iterator[str]:
    yield "["
    first = True
    for record in records:
        yield ("\n" if first else ",\n") + json.dumps(record, ensure_ascii=False)
        first = False
    yield "]\n" if first else "\n]\n"


def _csv_chunks(records: Iterator[dict], keys: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = _CsvWriter(buffer)

    def row_text(row: list[str]) -> str:
        writer.writerow(row)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield row_text(["patient_id", "language", "split", "report", *keys])
    for record in records:
        summary = record["summary"]
        yield row_text(
            [record["patient_id"], record["language"], record["split"], record["report"], *(summary[k] for k in keys)]
        )


def gold_export(
    *,
    project: Project,
    out: TextIO,
    fmt: str = "jsonl",
    filters: GoldFilter = GoldFilter(),
    with_metadata: bool = False,
    on_record: Callable[[], None] | None = None,
) -> int:
    """Write the project's gold to ``out``; returns the number of records.

    ``on_record`` (e.g. a progress bar's update) is called once per record written.
    """
    count = 0

    def counted() -> None:
        nonlocal count
        count += 1
        if on_record is not None:
            on_record()

    for chunk in gold_chunks(project=project, fmt=fmt, filters=filters, with_metadata=with_metadata, on_record=counted):
        out.write(chunk)
    return count


class _CsvWriter:
    r"""CSV with ``\n`` line ends that quotes as little as it can and still reads back.

    With ``lineterminator="\n"`` the csv module (Python 3.11) leaves a field holding a
    bare ``\r`` unquoted, and no reader takes that back; such rows are written with every
    field quoted.
    """

    def __init__(self, out: TextIO):
        self.minimal = csv.writer(out, lineterminator="\n")
        self.quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row: list[str]) -> None:
        if any("\r" in field for field in row):
            self.quoted.writerow(row)
        else:
            self.minimal.writerow(row)
