"""Bulk inserts of documents and gold for imports.

On PostgreSQL rows go through ``COPY ... FROM STDIN`` (psycopg 3), which is several
times faster than ``bulk_create`` for tens of thousands of multi-kB reports; ids are
reserved from the table's sequence first so gold rows can point at their documents.
Other databases use ``bulk_create``. Call inside the import's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection, reset_queries
from django.utils import timezone

from ..models import Document, Gold
from ..pipeline.records import ParsedRecord

BATCH_SIZE = 2000


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False) if value else "{}"


def documents_insert(*, project_id: int, records: Sequence[ParsedRecord]) -> list[int]:
    """Insert one document per parsed record; returns the new ids in order."""
    # DEBUG keeps the text of every query; an import would hold all reports twice.
    reset_queries()
    if connection.vendor != "postgresql":
        created = Document.objects.bulk_create(
            [
                Document(
                    project_id=project_id,
                    external_id=r.external_id,
                    language=r.language,
                    text=r.report,
                    split=r.split,
                    metadata=r.metadata,
                    content_hash=r.content_hash,
                )
                for r in records
            ],
            batch_size=BATCH_SIZE,
        )
        return [d.pk for d in created]
    table = Document._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)",
            [len(records)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        columns = "id, project_id, external_id, language, text, split, metadata, content_hash, created_at, updated_at"
        # COPY runs on psycopg's own cursor: wrap_database_errors turns its errors into
        # Django's (IntegrityError, ...) as Django's cursor does for execute().
        with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk, r in zip(ids, records, strict=True):
                copy.write_row(
                    (
                        pk,
                        project_id,
                        r.external_id,
                        r.language,
                        r.report,
                        r.split,
                        _json(r.metadata),
                        r.content_hash,
                        now,
                        now,
                    )
                )
    return ids


def gold_insert(*, rows: Sequence[tuple[int, dict]], origin: str, provenance: dict) -> None:
    """Insert gold ``values`` for each ``(document_id, values)`` row."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        Gold.objects.bulk_create(
            [Gold(document_id=pk, values=values, origin=origin, provenance=provenance) for pk, values in rows],
            batch_size=BATCH_SIZE,
        )
        return
    table = Gold._meta.db_table
    now = timezone.now()
    provenance_json = _json(provenance)
    columns = 'document_id, "values", origin, provenance, version, created_at, updated_at'
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for pk, values in rows:
            copy.write_row((pk, _json(values), origin, provenance_json, 1, now, now))


ANALYZE_AFTER_ROWS = 1000


def statistics_refresh(rows_written: int) -> None:
    """After a large bulk load, refresh PostgreSQL's planner statistics.

    Autovacuum gets to a freshly loaded table only later; until then the planner believes
    the table is tiny and picks plans (e.g. for the export's keyset chunks) that read
    every remaining report for each chunk.
    """
    if connection.vendor != "postgresql" or rows_written < ANALYZE_AFTER_ROWS:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Document._meta.db_table}, {Gold._meta.db_table}")
