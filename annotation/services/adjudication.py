"""Adjudication: submitted annotations become gold (issue 4, "Review and adjudication").

Gold writes are serialised per document (the document's row lock) and use optimistic
locking on ``Gold.version``: a reviewer names the version they started from (None when
the document had no gold) and a save from an outdated version gets a 409. Each change is
a GoldRevision (old -> new per field) with the provenance: which annotations, who, when.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from elmtex_site.errors import ApplicationError, Conflict, PermissionDenied, Problem

from ..models import (
    AccessAction,
    Annotation,
    Assignment,
    AssignmentStatus,
    Document,
    Gold,
    GoldOrigin,
    GoldRevision,
    Project,
)
from ..pipeline.annotations import values_check, values_complete
from ..schema import NA
from ..selectors import can_view_documents, project_role
from .access import access_record
from .annotations import project_keys

logger = logging.getLogger(__name__)

SOURCE_WORDS = ("draft", "edited", "gold", "agreed")


def _reviewer_check(*, user, project: Project) -> None:
    if not can_view_documents(project_role(user=user, project=project)):
        raise PermissionDenied("only the project's reviewers, researchers and staff may adjudicate")


def submitted_annotations(*, document_ids: list[int]) -> dict[int, list[Annotation]]:
    """Submitted annotations per document, with their assignment and annotator."""
    rows = (
        Annotation.objects.filter(
            assignment__document_id__in=document_ids, assignment__status=AssignmentStatus.SUBMITTED
        )
        .select_related("assignment__annotator")
        .order_by("assignment__document_id", "assignment__annotator__username")
    )
    out: dict[int, list[Annotation]] = defaultdict(list)
    for row in rows:
        out[row.assignment.document_id].append(row)
    return out


def gold_conflict_message(*, gold: Gold) -> str:
    who = gold.updated_by.username if gold.updated_by_id else "an import"
    when = gold.updated_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"the gold of document {gold.document_id} was changed by {who} at {when} (version {gold.version}); "
        "reload to see their changes — nothing was saved"
    )


def _gold_write(*, document: Document, user, values: dict, provenance: dict, origin: str, gold: Gold | None) -> Gold:
    """Write gold values with a revision. Call holding the document's row lock."""
    old = dict(gold.values) if gold else {}
    changes = {k: [old.get(k), v] for k, v in values.items() if old.get(k) != v}
    if gold is None:
        gold = Gold.objects.create(
            document=document, values=values, origin=origin, provenance=provenance, version=1, updated_by=user
        )
    else:
        gold.values, gold.origin, gold.provenance, gold.updated_by = values, origin, provenance, user
        gold.version += 1
        gold.save(update_fields=["values", "origin", "provenance", "version", "updated_by", "updated_at"])
    GoldRevision.objects.create(
        document=document, version=gold.version, origin=origin, changes=changes, provenance=provenance, user=user
    )
    access_record(
        user=user,
        project=document.project,
        action=AccessAction.ADJUDICATE,
        document=document,
        detail=f"gold version {gold.version}",
    )
    _checks_gold(document)
    return gold


def _checks_gold(document: Document) -> None:
    try:
        from . import checks
    except ImportError:
        return
    run = getattr(checks, "checks_gold_run", None)
    if run is None:
        return
    try:
        with transaction.atomic():
            run(document=document)
    except Exception:  # noqa: BLE001 - checks are advisory; the gold comes first
        logger.exception("checks on the gold of document %s failed", document.pk)


def _sources_check(sources, keys: tuple[str, ...], annotation_ids: set[int]) -> tuple[dict, list]:
    if sources is None:
        return {}, []
    if not isinstance(sources, dict):
        return {}, [("sources", "expected an object {category key: annotation id | draft | edited | gold}")]
    problems = []
    clean = {}
    for key, source in sources.items():
        where = f"sources.{key}"
        if key not in keys:
            problems.append((where, f"unknown category {key!r}"))
        elif isinstance(source, int) and not isinstance(source, bool):
            if source not in annotation_ids:
                problems.append((where, f"annotation {source} is not a submitted annotation of this document"))
            else:
                clean[key] = source
        elif source in SOURCE_WORDS:
            clean[key] = source
        else:
            problems.append((where, f"expected an annotation id or one of {', '.join(SOURCE_WORDS)}, got {source!r}"))
    return clean, problems


@transaction.atomic
def gold_adjudicate(
    *, document: Document, user, values: dict, version: int | None, sources: dict | None = None
) -> Gold:
    """Save the reviewer's values as the document's gold (origin ``adjudicated``).

    ``version``: the Gold.version the reviewer started from, None when there was no
    gold. Keys left out keep the current gold value (``N/A`` without gold); blank values
    become ``N/A``. ``sources`` says per field where the value came from (an annotation
    id, "draft", "edited" or "gold"), kept in the provenance.
    """
    project = document.project
    _reviewer_check(user=user, project=project)
    document = Document.objects.select_for_update().select_related("project").get(pk=document.pk)
    gold = Gold.objects.select_for_update(of=("self",)).select_related("updated_by").filter(document=document).first()
    if gold is None and version is not None:
        raise Conflict(
            f"document {document.pk} has no gold any more (you started from version {version}); "
            "reload the page — nothing was saved",
            field="version",
        )
    if gold is not None and version != gold.version:
        raise Conflict(gold_conflict_message(gold=gold), field="version")
    keys = project_keys(project)
    clean, problems = values_check(values, keys)
    annotations = submitted_annotations(document_ids=[document.pk]).get(document.pk, [])
    clean_sources, found = _sources_check(sources, keys, {a.pk for a in annotations})
    problems += found
    if problems:
        items = [Problem(message, field=path) for path, message in problems]
        first = items[0].format()[len("error: ") :]
        raise ApplicationError(
            f"adjudication refused, nothing was saved: {first}"
            + (f" (and {len(items) - 1} more problems)" if len(items) > 1 else ""),
            problems=items,
        )
    base = dict(gold.values) if gold else {}
    merged = {k: clean.get(k, base.get(k, NA)) for k in keys}
    final, _ = values_complete(merged, keys)
    provenance = {
        "annotations": [a.pk for a in annotations],
        "annotators": [a.assignment.annotator.username for a in annotations],
        "reviewer": user.username,
        "at": timezone.now().isoformat(),
        "sources": clean_sources,
    }
    return _gold_write(
        document=document, user=user, values=final, provenance=provenance, origin=GoldOrigin.ADJUDICATED, gold=gold
    )


def annotations_agree(values_list: list[dict], keys: tuple[str, ...]) -> bool:
    """Whether every annotation holds exactly the same value for every key (blank and
    missing count as ``N/A``)."""
    normalised = [values_complete(v, keys)[0] for v in values_list]
    return all(n == normalised[0] for n in normalised[1:])


@transaction.atomic
def gold_accept_agreed(
    *, project: Project, user, document_ids: list[int] | None = None, min_annotations: int = 2
) -> int:
    """Make gold of every document where at least ``min_annotations`` (>= 2) submitted
    annotations agree exactly on every value and no assignment is still open. Documents
    with adjudicated gold are left alone; imported gold is replaced (with a revision).
    Returns how many documents were accepted."""
    _reviewer_check(user=user, project=project)
    if not isinstance(min_annotations, int) or min_annotations < 2:
        raise ApplicationError("min_annotations must be at least 2: agreement needs two annotators")
    keys = project_keys(project)
    docs = Document.objects.filter(project=project).exclude(gold__origin=GoldOrigin.ADJUDICATED)
    if document_ids is not None:
        docs = docs.filter(pk__in=document_ids)
    open_docs = Assignment.objects.filter(
        project=project, status__in=(AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS)
    ).values("document_id")
    candidate_ids = list(
        docs.filter(assignments__status=AssignmentStatus.SUBMITTED)
        .exclude(pk__in=open_docs)
        .values_list("pk", flat=True)
        .distinct()
    )
    accepted = 0
    per_doc = submitted_annotations(document_ids=candidate_ids)
    for doc_id in sorted(per_doc):
        annotations = per_doc[doc_id]
        if len(annotations) < min_annotations or not annotations_agree([a.values for a in annotations], keys):
            continue
        document = Document.objects.select_for_update().select_related("project").get(pk=doc_id)
        gold = Gold.objects.select_for_update().filter(document=document).first()
        if gold is not None and gold.origin == GoldOrigin.ADJUDICATED:
            continue
        values = values_complete(annotations[0].values, keys)[0]
        provenance = {
            "annotations": [a.pk for a in annotations],
            "annotators": [a.assignment.annotator.username for a in annotations],
            "reviewer": user.username,
            "at": timezone.now().isoformat(),
            "sources": dict.fromkeys(keys, "agreed"),
            "method": "accept_agreed",
        }
        _gold_write(
            document=document, user=user, values=values, provenance=provenance, origin=GoldOrigin.ADJUDICATED, gold=gold
        )
        accepted += 1
    logger.info("project %s: %s agreed documents accepted as gold by user %s", project.pk, accepted, user.pk)
    return accepted
