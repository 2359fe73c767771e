"""Gold export (CLI.md ``export_gold``): streaming, constant memory, round-trips.

Records are written in the ELMTEX shape with the key order ``patient_id, language,
split, report, summary`` and summary keys in schema order, so importing an export gives
back the same records.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
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
    """ELMTEX-shaped records, one per document with gold, read in chunks."""
    keys = list(project.categories.order_by("order").values_list("key", flat=True))
    fields = ["external_id", "language", "split", "text", "gold__values"]
    if with_metadata:
        fields.append("metadata")
    rows = gold_documents(project=project, filters=filters).values_list(*fields)
    for row in rows.iterator(chunk_size=CHUNK):
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


def gold_export(*, project: Project, out: TextIO, fmt: str = "jsonl", filters: GoldFilter = GoldFilter(),
                with_metadata: bool = False) -> int:
    """Write the project's gold to ``out``; returns the number of records."""
    if fmt not in EXPORT_FORMATS:
        raise ApplicationError(f"--format: expected one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    records = gold_records(project=project, filters=filters, with_metadata=with_metadata and fmt != "csv")
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False))
            out.write("\n")
            count += 1
    elif fmt == "json":
        out.write("[")
        for record in records:
            out.write(",\n" if count else "\n")
            out.write(json.dumps(record, ensure_ascii=False))
            count += 1
        out.write("\n]\n" if count else "]\n")
    else:
        keys = list(project.categories.order_by("order").values_list("key", flat=True))
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["patient_id", "language", "split", "report", *keys])
        for record in records:
            summary = record["summary"]
            writer.writerow([record["patient_id"], record["language"], record["split"], record["report"],
                             *(summary[k] for k in keys)])
            count += 1
    return count
