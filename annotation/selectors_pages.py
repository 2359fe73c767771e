"""Reads for the server-rendered pages (``views.py``).

The general reads (who may see what, counts, search) live in ``selectors.py``; these
add the shapes only the pages need, each built so a page costs a constant number of
queries however many rows it shows.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Substr

from .models import Document, Gold, Membership, Project, Split

EXCERPT_CHARS = 120


def document_list_rows(qs: QuerySet[Document]) -> QuerySet[Document]:
    """What a row of the document list shows, without loading report texts or gold.

    Adds ``has_gold``, ``excerpt`` (the first EXCERPT_CHARS + 1 characters, so the page
    can tell a cut text), ``original_external_id`` and ``original_language``. All are
    per-row subqueries or expressions, not joins, so the paginator's COUNT stays a plain
    count of the filtered documents.
    """
    original = Document.objects.filter(pk=OuterRef("translation_of_id"))
    return qs.annotate(
        has_gold=Exists(Gold.objects.filter(document=OuterRef("pk"))),
        excerpt=Substr("text", 1, EXCERPT_CHARS + 1),
        original_external_id=Subquery(original.values("external_id")[:1]),
        original_language=Subquery(original.values("language")[:1]),
    ).only("id", "external_id", "language", "split", "translation_of_id")


def document_translations(*, document: Document) -> list[Document]:
    return list(document.translations.order_by("language", "id").only("id", "external_id", "language"))


def document_neighbours(*, document: Document) -> tuple[int | None, int | None]:
    """Ids of the previous and next documents of the same project (list order: by id)."""
    same_project = Document.objects.filter(project_id=document.project_id)
    prev_pk = same_project.filter(pk__lt=document.pk).order_by("-pk").values_list("pk", flat=True).first()
    next_pk = same_project.filter(pk__gt=document.pk).order_by("pk").values_list("pk", flat=True).first()
    return prev_pk, next_pk


def project_members(*, project: Project) -> QuerySet[Membership]:
    return project.memberships.select_related("user").order_by("role", "user__username")


def counts_matrix(rows: list[dict]) -> dict:
    """Turn ``project_counts`` rows into a split x language table with totals.

    Returns ``{"languages": [...], "rows": [{"split", "cells": [cell|None...], "total"}],
    "totals": [cell...], "total": cell}`` where a cell is ``{"documents", "with_gold"}``.
    """
    languages = sorted({r["language"] for r in rows})
    present = {r["split"] for r in rows}
    splits = [s for s in Split.values if s in present] + sorted(present - set(Split.values))
    by_key = {(r["split"], r["language"]): r for r in rows}

    def add(cells):
        cells = [c for c in cells if c]
        return {"documents": sum(c["documents"] for c in cells), "with_gold": sum(c["with_gold"] for c in cells)}

    table = []
    for split in splits:
        cells = [by_key.get((split, lang)) for lang in languages]
        table.append({"split": split, "cells": cells, "total": add(cells)})
    totals = [add(by_key.get((s, lang)) for s in splits) for lang in languages]
    return {"languages": languages, "rows": table, "totals": totals, "total": add(totals)}
