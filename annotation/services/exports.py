"""Gold export (CLI.md ``export_gold``): streaming, constant memory, round-trips.

Records are written in the ELMTEX shape with the key order ``patient_id, language,
split, report, summary`` and summary keys in schema order, so importing an export gives
back the same records.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

from elmtex_site.errors import ApplicationError

from ..models import Document, GoldOrigin, Project

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


def gold_export_check(*, fmt: str, with_metadata: bool = False) -> None:
    """Refuse options that cannot be honoured, before anything is written."""
    if fmt not in EXPORT_FORMATS:
        raise ApplicationError(f"--format: expected one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    if with_metadata and fmt == "csv":
        raise ApplicationError(
            "--with-metadata: not available for csv; metadata has no columns (use --format jsonl or json)"
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
    gold_export_check(fmt=fmt, with_metadata=with_metadata)
    records = gold_records(project=project, filters=filters, with_metadata=with_metadata)
    if on_record is not None:
        records = _counted(records, on_record)
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    elif fmt == "json":
        out.write("[")
        for record in records:
            out.write((",\n" if count else "\n") + json.dumps(record, ensure_ascii=False))
            count += 1
        out.write("\n]\n" if count else "]\n")
    else:
        keys = list(project.categories.order_by("order").values_list("key", flat=True))
        writer = _CsvWriter(out)
        writer.writerow(["patient_id", "language", "split", "report", *keys])
        for record in records:
            summary = record["summary"]
            writer.writerow(
                [
                    record["patient_id"],
                    record["language"],
                    record["split"],
                    record["report"],
                    *(summary[k] for k in keys),
                ]
            )
            count += 1
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
