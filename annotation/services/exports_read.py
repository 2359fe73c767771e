"""Reading gold for export: the filter, the documents it selects, and their records in
chunks (keyset pagination, constant memory). On PostgreSQL the database builds each
record's JSON text (byte-identical to ``json.dumps``); elsewhere Python does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from django.db import connection
from django.db.models.expressions import RawSQL

from ..models import Document, Gold, GoldOrigin, Project

CHUNK = 2000


@dataclass(frozen=True)
class GoldFilter:
    language: str | None = None
    split: str | None = None
    only_adjudicated: bool = False
    # Documents whose annotators agree on at least this share of the categories
    # (annotation/services/document_agreement.py); None = no agreement filter.
    min_agreement: float | None = None
    # The ids the agreement filter kept, once computed (gold_filter_resolve), so that one
    # export computes the agreement once; not part of what the filter says.
    document_ids: tuple[int, ...] | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict:
        return {
            "language": self.language,
            "split": self.split,
            "only_adjudicated": self.only_adjudicated,
            "min_agreement": self.min_agreement,
        }


def gold_documents(*, project: Project, filters: GoldFilter):
    """The documents with gold that the language, split and adjudication filters select,
    by id. The agreement filter is not applied here (it is computed in Python): use
    :func:`gold_document_ids` / :func:`gold_count`."""
    qs = Document.objects.filter(project=project, gold__isnull=False)
    if filters.language:
        qs = qs.filter(language=filters.language)
    if filters.split:
        qs = qs.filter(split=filters.split)
    if filters.only_adjudicated:
        qs = qs.filter(gold__origin=GoldOrigin.ADJUDICATED)
    return qs.order_by("id")


def gold_document_ids(*, project: Project, filters: GoldFilter) -> list[int] | None:
    """The ids (ascending) the agreement filter keeps, or None without that filter."""
    if filters.min_agreement is None:
        return None
    if filters.document_ids is not None:
        return list(filters.document_ids)
    from .document_agreement import documents_agreeing_ids

    return documents_agreeing_ids(
        project=project, documents=gold_documents(project=project, filters=filters), threshold=filters.min_agreement
    )


def gold_filter_resolve(*, project: Project, filters: GoldFilter) -> GoldFilter:
    """The filter with the agreement filter's ids computed (the same filter without one)."""
    if filters.min_agreement is None or filters.document_ids is not None:
        return filters
    ids = gold_document_ids(project=project, filters=filters)
    return replace(filters, document_ids=tuple(ids))


def gold_count(*, project: Project, filters: GoldFilter) -> int:
    """How many records an export with ``filters`` holds (before any records skipped)."""
    ids = gold_document_ids(project=project, filters=filters)
    return len(ids) if ids is not None else gold_documents(project=project, filters=filters).count()


def _row_chunks(*, project: Project, filters: GoldFilter, fields: list[str], expressions: dict | None = None):
    """Lists of ``values_list(*fields, "id")`` rows of the selected documents, by id.

    Chunks are fetched by keyset (``id > last``) rather than with a server-side cursor:
    constant memory, no long-lived cursor, and each chunk is an index range scan. With
    the agreement filter, its ids are read a chunk at a time instead.
    """
    documents = gold_documents(project=project, filters=filters)
    if expressions:
        documents = documents.annotate(**expressions)
    fields = [*fields, "id"]
    ids = gold_document_ids(project=project, filters=filters)
    if ids is not None:
        for start in range(0, len(ids), CHUNK):
            rows = list(documents.filter(id__in=ids[start : start + CHUNK]).values_list(*fields))
            if rows:
                yield rows
        return
    last_id = 0
    while True:
        # The gold side gets the bound too, so the join starts at the chunk on both sides.
        chunk = documents.filter(id__gt=last_id, gold__document_id__gt=last_id)
        rows = list(chunk.values_list(*fields)[:CHUNK])
        if not rows:
            return
        last_id = rows[-1][-1]
        yield rows


def gold_records(*, project: Project, filters: GoldFilter, with_metadata: bool = False) -> Iterator[dict]:
    """ELMTEX-shaped records, one per document with gold, read in chunks (constant memory)."""
    keys = category_keys(project)
    fields = ["external_id", "language", "split", "text", "gold__values", "metadata"]
    if not with_metadata:
        fields.remove("metadata")
    for rows in _row_chunks(project=project, filters=filters, fields=fields):
        yield from _records(rows, keys, with_metadata)


# --- JSON text made by PostgreSQL ------------------------------------------------------
# On PostgreSQL the records' JSON text is built by the database, in C and in its own
# process, while Python only joins and writes: the export's per-record work in Python
# is a few string concatenations. PostgreSQL's JSON string escaping (escape_json: the
# quote, backslash, \b \f \n \r \t, other characters below U+0020 as \u00xx, the
# rest as it is) is the one of json.dumps(ensure_ascii=False), and the text is joined
# with json.dumps's separators, so the bytes equal those of the Python path (used on
# other databases and with --with-metadata); tests compare the two.


def sql_json_available() -> bool:
    return connection.vendor == "postgresql"


def _columns() -> tuple[str, str]:
    quote = connection.ops.quote_name
    return quote(Document._meta.db_table), quote(Gold._meta.db_table)


def _json_text_sql(column: str) -> str:
    return f"to_json({column})::text"


def _summary_sql(keys: list[str]) -> tuple[str, list[str]]:
    """SQL for the summary object's JSON text, keys in schema order; a key the gold
    lacks is "N/A" (as ``values.get(key, "N/A")``). ``concat`` builds the text in one
    buffer (a chain of ``||`` copies it once per step)."""
    if not keys:
        return "'{}'", []
    _document, gold = _columns()
    values = f"{gold}.{connection.ops.quote_name('values')}"
    parts, params = [], []
    for key in keys:
        parts.append(f"%s, coalesce(({values} -> %s)::text, '\"N/A\"')")
        params += [json.dumps(key, ensure_ascii=False) + ": ", key]
    return "concat('{', " + ", ', ', ".join(parts) + ", '}')", params


def _sql_json_expressions(project: Project, *names: str) -> dict[str, RawSQL]:
    """Annotations with the JSON texts of the patient id, the report and the summary."""
    document, _gold = _columns()
    quote = connection.ops.quote_name
    expressions = {
        "export_pid": RawSQL(_json_text_sql(f"{document}.{quote('external_id')}"), []),
        "export_report": RawSQL(_json_text_sql(f"{document}.{quote('text')}"), []),
    }
    if "export_summary" in names:
        expressions["export_summary"] = RawSQL(*_summary_sql(category_keys(project)))
    return {name: expressions[name] for name in names}


def gold_lines(*, project: Project, filters: GoldFilter, with_metadata: bool = False) -> Iterator[tuple]:
    """``(language, split, JSON text of the record)`` per record (no newline), in id order."""
    if with_metadata or not sql_json_available():
        dumps = json.dumps
        for record in gold_records(project=project, filters=filters, with_metadata=with_metadata):
            yield record["language"], record["split"], dumps(record, ensure_ascii=False)
        return
    names = ("export_pid", "export_report", "export_summary")
    expressions = _sql_json_expressions(project, *names)
    literals: dict[str, str] = {}  # the few languages and splits, as JSON text
    fields = ["language", "split", *names]
    for rows in _row_chunks(project=project, filters=filters, fields=fields, expressions=expressions):
        for language, split, pid, report, summary, _id in rows:
            lang = literals.get(language) or literals.setdefault(language, json.dumps(language, ensure_ascii=False))
            part = literals.get(split) or literals.setdefault(split, json.dumps(split, ensure_ascii=False))
            yield (
                language,
                split,
                f'{{"patient_id": {pid}, "language": {lang}, "split": {part}, "report": {report}, "summary": {summary}}}',
            )


def gold_chat_parts(*, project: Project, filters: GoldFilter) -> Iterator[tuple]:
    """``(JSON text of the report string, JSON text of the summary object)`` per record;
    a row may carry more items after these two."""
    if not sql_json_available():
        dumps = json.dumps
        for record in gold_records(project=project, filters=filters):
            yield dumps(record["report"], ensure_ascii=False), dumps(record["summary"], ensure_ascii=False)
        return
    names = ("export_report", "export_summary")
    expressions = _sql_json_expressions(project, *names)
    for rows in _row_chunks(project=project, filters=filters, fields=list(names), expressions=expressions):
        yield from rows


def category_keys(project: Project) -> list[str]:
    return list(project.categories.order_by("order", "pk").values_list("key", flat=True))


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
