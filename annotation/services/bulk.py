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

BATCH_SIZE = 2000


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def documents_insert(docs: Sequence[Document]) -> list[int]:
    """Insert unsaved Document instances; returns their new ids in order."""
    # DEBUG keeps the text of every query; an import would hold all reports twice.
    reset_queries()
    if connection.vendor != "postgresql":
        created = Document.objects.bulk_create(docs, batch_size=BATCH_SIZE)
        return [d.pk for d in created]
    table = Document._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)",
            [len(docs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        columns = "id, project_id, external_id, language, text, split, metadata, content_hash, created_at, updated_at"
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk, d in zip(ids, docs, strict=True):
                copy.write_row((pk, d.project_id, d.external_id, d.language, d.text, d.split,
                                _json(d.metadata), d.content_hash, now, now))
    return ids


def gold_insert(golds: Sequence[Gold]) -> None:
    """Insert unsaved Gold instances (``document_id`` set)."""
    if not golds:
        return
    if connection.vendor != "postgresql":
        Gold.objects.bulk_create(golds, batch_size=BATCH_SIZE)
        return
    table = Gold._meta.db_table
    now = timezone.now()
    columns = 'document_id, "values", origin, provenance, version, created_at, updated_at'
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for g in golds:
            copy.write_row((g.document_id, _json(g.values), g.origin, _json(g.provenance), g.version, now, now))
