"""Reviewer pages: the review queue, the adjudication page and a document's gold history
(issue 4, "Review and adjudication").

Only reviewers, researchers and staff get here (annotators: 403, outsiders: 404). Reads
come from helper F's ``selectors_work``, writes go through ``services.adjudication``.
The adjudication form is a plain POST form; ``review.js`` only copies a picked value
into the field's text box.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.http import require_http_methods, require_POST

from elmtex_site.errors import ApplicationError, Conflict

from .diffs import diff_html
from .models import Judgement
from .selectors import project_for_user
from .selectors_work import gold_history, review_context, review_document_get
from .selectors_work_pages import review_page_rows
from .services.adjudication import gold_accept_agreed
from .services.adjudication import gold_adjudicate as gold_adjudicate_service
from .views import page_errors
from .work_fields import checks_for, findings_by_target, value_text

DOCUMENTS_PER_PAGE = 50
REVIEW_TABS = [
    ("pending", "Not adjudicated"),
    ("disagreed", "Needs adjudication"),
    ("agreed", "All agree"),
    ("adjudicated", "Adjudicated"),
    ("all", "All"),
]
JUDGEMENT_LABELS = dict(Judgement.choices)


@login_required
@page_errors
def review_list(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="documents")
    tab = request.GET.get("status") or "pending"
    if tab not in dict(REVIEW_TABS):
        raise ApplicationError(f"status: expected one of {', '.join(t for t, _ in REVIEW_TABS)}, got {tab!r}")
    try:
        number = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        number = 1
    offset = (number - 1) * DOCUMENTS_PER_PAGE
    rows, has_next = review_page_rows(project=project, status=tab, offset=offset, limit=DOCUMENTS_PER_PAGE)
    context = {
        "project": project,
        "role": role,
        "rows": rows,
        "tab": tab,
        "tabs": REVIEW_TABS,
        "number": number,
        "first_shown": offset + 1,
        "last_shown": offset + len(rows),
        "has_next": has_next,
    }
    return render(request, "annotation/work/review_list.html", context)


@login_required
@require_POST
@page_errors
def review_accept_agreed(request, slug: str):
    project, _ = project_for_user(user=request.user, slug=slug, need="documents")
    accepted = gold_accept_agreed(project=project, user=request.user)
    if accepted:
        messages.success(
            request, f"Accepted {accepted} document{'s' if accepted != 1 else ''} where all annotators agree as gold."
        )
    else:
        messages.info(
            request, "No document to accept: none has two or more agreeing annotations without adjudicated gold."
        )
    return redirect(reverse("review-list", args=[project.slug]) + "?status=adjudicated")


def _choices(key: str, context: dict) -> list[dict]:
    """The values a reviewer may pick for one field: each annotation, each draft, the gold."""
    annotations = context["annotations"]
    reference = value_text(annotations[0]["values"].get(key)) if annotations else None
    choices = []
    for i, a in enumerate(annotations):
        value = value_text(a["values"].get(key))
        judgement = a["judgements"].get(key)
        choices.append(
            {
                "pick": str(a["id"]),
                "source": a["id"],
                "who": a["annotator"],
                "value": value,
                "html": escape(value) if i == 0 else diff_html(reference, value),
                "judgement": JUDGEMENT_LABELS.get(judgement, judgement or ""),
                "judgement_code": judgement or "",
                "findings": a.get("findings", {}).get(key, []),
                "kind": "annotation",
            }
        )
    for d in context["drafts"]:
        raw = (d["values"] or {}).get(key)
        value = value_text(raw)
        choices.append(
            {
                "pick": f"draft:{d['run']}",
                "source": "draft",
                "who": f"model draft · {d['run_name']}",
                "value": value,
                "html": escape(value) if reference is None else diff_html(reference, value),
                "kind": "draft",
                "missing": raw is None,
                "findings": d.get("findings", {}).get(key, []),
            }
        )
    if context["gold_values"] is not None:
        raw = context["gold_values"].get(key)
        value = value_text(raw)
        choices.append(
            {
                "pick": "gold",
                "source": "gold",
                "who": f"current gold (v{context['gold_version']})",
                "value": value,
                "html": escape(value) if reference is None else diff_html(reference, value),
                "kind": "gold",
                "findings": context.get("gold_findings", {}).get(key, []),
            }
        )
    return choices


def _default_pick(choices: list[dict], context: dict, agree: bool) -> str:
    annotations = [c for c in choices if c["kind"] == "annotation"]
    gold = context["gold"]
    if gold is not None and gold.origin == "adjudicated" and not agree:
        return "gold"
    if annotations:
        return annotations[0]["pick"]
    return choices[0]["pick"] if choices else "edited"


def _rows(context: dict, posted=None) -> list[dict]:
    rows = []
    for category in context["categories"]:
        key = category.key
        choices = _choices(key, context)
        annotation_values = {c["value"] for c in choices if c["kind"] == "annotation"}
        n_annotations = sum(1 for c in choices if c["kind"] == "annotation")
        agree = len(annotation_values) == 1 and n_annotations >= 2
        pick = _default_pick(choices, context, agree)
        by_pick = {c["pick"]: c for c in choices}
        edited = by_pick[pick]["value"] if pick in by_pick else ""
        original = edited
        if posted is not None:
            pick = posted.get(f"pick-{key}", pick)
            edited = posted.get(f"edit-{key}", edited).replace("\r\n", "\n")
            original = posted.get(f"orig-{key}", original).replace("\r\n", "\n")
        rows.append(
            {
                "key": key,
                "label": category.label,
                "guideline": category.guideline,
                "choices": choices,
                "pick": pick,
                "edited": edited,
                "original": original,
                "agree": agree,
                "single": n_annotations < 2,
            }
        )
    return rows


def _posted_gold(post, rows: list[dict]) -> tuple[dict, dict]:
    """values and sources from the form: the picked choice, or the text box when the
    reviewer changed it (or picked "edited")."""
    values, sources = {}, {}
    for row in rows:
        key = row["key"]
        pick = post.get(f"pick-{key}", "")
        text = post.get(f"edit-{key}", "").replace("\r\n", "\n")
        original = post.get(f"orig-{key}", "").replace("\r\n", "\n")
        by_pick = {c["pick"]: c for c in row["choices"]}
        if pick == "edited" or text != original or pick not in by_pick:
            values[key], sources[key] = text, "edited"
        else:
            values[key], sources[key] = by_pick[pick]["value"], by_pick[pick]["source"]
    return values, sources


def _draft_candidates(document, drafts: list[dict]) -> dict[int, int]:
    """run id -> the id of the candidate shown as that run's draft (findings are per candidate)."""
    if not drafts:
        return {}
    from inference.models import Candidate

    rows = Candidate.objects.filter(document=document, run_id__in=[d["run"] for d in drafts])
    return {run_id: pk for pk, run_id in rows.values_list("pk", "run_id")}


def _with_findings(context: dict) -> dict:
    document = context["document"]
    found = checks_for(document=document, targets=("annotation", "gold", "candidate"))
    for a in context["annotations"]:
        a["findings"] = findings_by_target(found, "annotation", a["id"])
    candidates = _draft_candidates(document, context["drafts"]) if found.get("candidate") else {}
    for d in context["drafts"]:
        d["findings"] = findings_by_target(found, "candidate", candidates[d["run"]]) if d["run"] in candidates else {}
    context["gold_findings"] = findings_by_target(found, "gold", document.pk)
    return context


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def review_document(request, slug: str, document_id: int):
    project, role = project_for_user(user=request.user, slug=slug, need="documents")
    document = review_document_get(user=request.user, project=project, pk=document_id)
    context = _with_findings(review_context(document=document))
    error, status, posted = None, 200, None
    if request.method == "POST":
        posted = request.POST
        rows = _rows(context)
        values, sources = _posted_gold(request.POST, rows)
        raw_version = request.POST.get("version", "")
        try:
            version = int(raw_version) if raw_version else None
            gold_adjudicate_service(
                document=document, user=request.user, values=values, version=version, sources=sources
            )
        except ValueError:
            error, status = ApplicationError("version: not a number; reload the page"), 400
        except Conflict as exc:
            error, status = exc, 409
        except ApplicationError as exc:
            error, status = exc, exc.status
        else:
            messages.success(request, f"Saved gold for document {document.external_id}.")
            return redirect("review-document", slug=project.slug, document_id=document.pk)
    annotations = context["annotations"]
    page = {
        "project": project,
        "role": role,
        "document": document,
        "annotations": annotations,
        "drafts": context["drafts"],
        "gold": context["gold"],
        "version": "" if context["gold_version"] is None else context["gold_version"],
        "rows": _rows(context, posted),
        "reference": annotations[0]["annotator"] if annotations else None,
        "error": error,
        "conflict": status == 409,
    }
    return render(request, "annotation/work/adjudicate.html", page, status=status)


@login_required
@page_errors
def gold_history_page(request, slug: str, pk: int):
    project, role = project_for_user(user=request.user, slug=slug, need="documents")
    document = review_document_get(user=request.user, project=project, pk=pk)
    labels = dict(project.categories.values_list("key", "label"))
    revisions = []
    for rev in gold_history(document=document).order_by("-version"):
        changes = [
            {"key": key, "label": labels.get(key, key), "old": old, "new": new, "html": diff_html(old, new)}
            for key, (old, new) in (rev.changes or {}).items()
        ]
        revisions.append({"revision": rev, "changes": changes, "provenance": rev.provenance or {}})
    context = {"project": project, "role": role, "document": document, "revisions": revisions}
    return render(request, "annotation/work/gold_history.html", context)
