"""Annotator agreement per document, for the export filter ``min_agreement``.

A document's agreement is the share of the project's categories on which all of its
submitted annotations hold the same text, compared after collapsing whitespace and
casefolding. A value that is missing, blank or null counts as ``N/A`` (what the
platform writes for "not mentioned"). Documents with fewer than two submitted
annotations have no agreement and are left out of an export that asks for one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import groupby

from ..models import Annotation, AssignmentStatus, Project

NA = "n/a"
# Rows fetched per round trip of the server-side cursor.
ITERATOR_CHUNK = 2000


def normalise_value(value) -> str:
    """The text as compared: whitespace collapsed, casefolded; missing/blank = ``n/a``."""
    if value is None:
        return NA
    text = " ".join(str(value).split()).casefold()
    return text or NA


def agreement_share(values: Iterable[dict], keys: list[str]) -> float | None:
    """Share of ``keys`` on which every annotation's values agree; None for fewer than
    two annotations (or no keys)."""
    values = list(values)
    if len(values) < 2 or not keys:
        return None
    agreed = 0
    for key in keys:
        first = normalise_value(values[0].get(key))
        if all(normalise_value(v.get(key)) == first for v in values[1:]):
            agreed += 1
    return agreed / len(keys)


def _submitted_values(*, project: Project, documents) -> Iterator[tuple[int, dict]]:
    """``(document id, annotation values)`` of the submitted annotations of the
    selected documents, ordered by document: one query, streamed."""
    return (
        Annotation.objects.filter(
            assignment__project=project,
            assignment__status=AssignmentStatus.SUBMITTED,
            assignment__document_id__in=documents.values("id"),
        )
        .order_by("assignment__document_id")
        .values_list("assignment__document_id", "values")
        .iterator(chunk_size=ITERATOR_CHUNK)
    )


def documents_agreement(*, project: Project, documents) -> dict[int, float]:
    """``{document id: agreement}`` for the documents of the queryset ``documents`` that
    have at least two submitted annotations. Memory grows with those documents only:
    the annotations are streamed in document order and reduced one document at a time."""
    keys = list(project.categories.order_by("order", "pk").values_list("key", flat=True))
    shares = {}
    rows = _submitted_values(project=project, documents=documents)
    for document_id, group in groupby(rows, key=lambda row: row[0]):
        share = agreement_share((v if isinstance(v, dict) else {} for _, v in group), keys)
        if share is not None:
            shares[document_id] = share
    return shares


def documents_agreeing_ids(*, project: Project, documents, threshold: float) -> list[int]:
    """Ids (ascending) of the selected documents whose agreement is at least ``threshold``."""
    # A tiny tolerance so that 0.7 selects 7 of 10 categories whatever the float rounding.
    floor = threshold - 1e-9
    return sorted(i for i, share in documents_agreement(project=project, documents=documents).items() if share >= floor)
