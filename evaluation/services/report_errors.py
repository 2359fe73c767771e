"""Error analysis report: per run and category, the annotators' judgements of the run's
drafts and the automated check findings on its candidates, with example documents.

The run judged is the assignment's ``draft_run`` (the candidate that pre-filled the form);
only annotations of submitted assignments count. Everything is aggregated in the
database or in one streamed pass over the judgements, never one query per document.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F, Window
from django.db.models.functions import DenseRank
from django.urls import reverse
from django.utils import timezone

from annotation.models import Annotation, AssignmentStatus, CheckResult, CheckTarget, Judgement, Project
from annotation.models import Split as DocumentSplit
from elmtex_site.errors import ApplicationError, Problem
from evaluation.report_tables import Cell, Column, Report, Table
from inference.models import ModelRun

from .comparison import run_id_of
from .selection import selection_language_check

EXAMPLES = 5  # example documents per (run, category, label or code)
ROW_CHUNK = 5000
RECORD = "(record)"  # category shown for whole-record check findings
LABELS = tuple(Judgement.values)
ERROR_LABELS = tuple(label for label in LABELS if label != Judgement.CORRECT)


def _refuse(field_name: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field_name}: {message}", problems=[Problem(message, field=field_name)])


def report_selection_check(
    *, project: Project, language: str | None = None, split: str | None = None
) -> tuple[str | None, str | None]:
    """``(language, split)`` of a report selection, None for "any"; refuses a split that
    does not exist and a language no document of the project has."""
    language = (language or "").strip() or None
    split = (split or "").strip() or None
    if split is not None and split not in DocumentSplit.values:
        raise _refuse("split", f"unknown split {split!r}; choose from {', '.join(DocumentSplit.values)}")
    language = selection_language_check(project=project, language=language)
    return language, split


def report_runs_resolve(*, project: Project, text: str | None) -> list[ModelRun] | None:
    """Runs named in ``"1,2,name"`` (ids or names, comma separated); None for an empty text
    (all runs). Refuses an unknown or ambiguous run, naming the ``runs`` parameter."""
    refs = [part.strip() for part in (text or "").split(",") if part.strip()]
    if not refs:
        return None
    runs: list[ModelRun] = []
    for ref in refs:
        qs = ModelRun.objects.filter(project=project)
        run_id = run_id_of(ref)
        found = list(qs.filter(pk=run_id)) if run_id is not None else list(qs.filter(name=ref)[:2])
        if not found:
            known = ", ".join(f"{r.pk} ({r.name})" for r in qs.order_by("id")[:20]) or "none yet"
            raise _refuse("runs", f"no run {ref!r} in project {project.slug!r}; known runs: {known}")
        if len(found) > 1:
            raise _refuse("runs", f"several runs are named {ref!r}; give the run id instead")
        if found[0] not in runs:
            runs.append(found[0])
    return runs


@dataclass
class Tally:
    """Counts and example document ids of one (run, category, label or code)."""

    count: int = 0
    documents: int = 0  # distinct documents (check findings; a judgement is one per document already)
    examples: list[int] = field(default_factory=list)


def _judged_annotations(*, project: Project, runs, language, split):
    qs = Annotation.objects.filter(
        assignment__project=project,
        assignment__status=AssignmentStatus.SUBMITTED,
        assignment__draft_run__isnull=False,
    )
    if runs is not None:
        qs = qs.filter(assignment__draft_run__in=[r.pk for r in runs])
    if language:
        qs = qs.filter(assignment__document__language=language)
    if split:
        qs = qs.filter(assignment__document__split=split)
    return qs


def _judgement_tallies_postgres(qs) -> dict[tuple[int, str, str], Tally]:
    """One GROUP BY over the judgement keys (``jsonb_each_text``), example documents as the
    smallest document ids of each group."""
    inner = qs.values_list("assignment__draft_run_id", "assignment__document_id", "judgements").order_by()
    inner_sql, params = inner.query.sql_with_params()
    sql = f"""
        SELECT s.run_id, j.key, j.value, COUNT(*),
               (ARRAY_AGG(DISTINCT s.document_id ORDER BY s.document_id))[1:%s]
        FROM ({inner_sql}) AS s(run_id, document_id, judgements)
        CROSS JOIN LATERAL jsonb_each_text(s.judgements) AS j(key, value)
        WHERE jsonb_typeof(s.judgements) = 'object' AND j.value = ANY(%s)
        GROUP BY s.run_id, j.key, j.value
    """  # noqa: S608 - the inner SQL is Django's, the values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [EXAMPLES, *params, list(LABELS)])
        return {
            (run_id, key, label): Tally(count, examples=list(examples))
            for run_id, key, label, count, examples in cursor.fetchall()
        }


def _judgement_tallies_portable(qs) -> dict[tuple[int, str, str], Tally]:
    """The same figures from one streamed pass over the judgements (SQLite and others),
    in document order, so the first documents seen are the examples."""
    tallies: dict[tuple[int, str, str], Tally] = defaultdict(Tally)
    rows = qs.order_by("assignment__document_id", "id").values_list(
        "assignment__draft_run_id", "assignment__document_id", "judgements"
    )
    for run_id, document_id, judgements in rows.iterator(chunk_size=ROW_CHUNK):
        if not isinstance(judgements, dict):
            continue
        for key, label in judgements.items():
            if label not in LABELS:
                continue
            tally = tallies[(run_id, key, label)]
            tally.count += 1
            # Several annotators of one document come one after another.
            if len(tally.examples) < EXAMPLES and (not tally.examples or tally.examples[-1] != document_id):
                tally.examples.append(document_id)
    return dict(tallies)


def judgement_tallies(
    *, project: Project, runs=None, language=None, split=None, portable: bool | None = None
) -> dict[tuple[int, str, str], Tally]:
    """``{(run id, category key, label): Tally}`` over the submitted annotations of the
    selection. ``portable`` forces the database-independent path (default: PostgreSQL
    aggregates in SQL)."""
    if runs is not None and not runs:
        return {}
    qs = _judged_annotations(project=project, runs=runs, language=language, split=split)
    if portable is None:
        portable = connection.vendor != "postgresql"
    return _judgement_tallies_portable(qs) if portable else _judgement_tallies_postgres(qs)


def check_tallies(
    *, project: Project, runs: list[ModelRun] | None = None, language=None, split=None
) -> dict[tuple[int, str, str], Tally]:
    """``{(run id, category, code): Tally}`` of the check findings on the candidates of
    ``runs`` (None: every run): one GROUP BY for the counts, one ranked query for the
    example documents (the smallest document ids per group)."""
    if runs is not None and not runs:
        return {}
    # A finding names its candidate by id only (no foreign key); joined through the
    # document's candidates, so the database can hash-join instead of a lookup per row.
    # One filter() call: a second one would join the candidates a second time.
    candidate = {"document__candidates__id": F("target_id")}
    if runs is not None:
        candidate["document__candidates__run__in"] = [run.pk for run in runs]
    qs = CheckResult.objects.filter(project=project, target=CheckTarget.CANDIDATE, **candidate)
    if language:
        qs = qs.filter(document__language=language)
    if split:
        qs = qs.filter(document__split=split)
    qs = qs.annotate(run_id=F("document__candidates__run_id")).order_by()
    tallies: dict[tuple[int, str, str], Tally] = {}
    counts = qs.values("run_id", "category", "code").annotate(n=Count("id"), d=Count("document_id", distinct=True))
    for row in counts:
        tallies[(row["run_id"], row["category"], row["code"])] = Tally(row["n"], row["d"])
    # DenseRank: several findings on one document share a rank, so rank <= EXAMPLES
    # keeps EXAMPLES distinct documents per group.
    rank = Window(DenseRank(), partition_by=[F("run_id"), F("category"), F("code")], order_by=F("document_id").asc())
    ranked = qs.annotate(rank=rank).filter(rank__lte=EXAMPLES)
    for run_id, category, code, document_id in ranked.values_list("run_id", "category", "code", "document_id"):
        tally = tallies.get((run_id, category, code))
        if tally is not None and document_id not in tally.examples:
            tally.examples.append(document_id)
    for tally in tallies.values():
        tally.examples.sort()
    return tallies


def _default_runs(*, project: Project, judged_run_ids: set[int], checked_run_ids: set[int]) -> list[ModelRun]:
    """Runs with something to show: a judged draft or a check finding on a candidate."""
    return list(ModelRun.objects.filter(project=project, pk__in=judged_run_ids | checked_run_ids).order_by("id"))


def _document_link(project: Project, document_id: int) -> Cell:
    return Cell(document_id, url=reverse("document-detail", args=[project.slug, document_id]))


def errors_report(
    *,
    project: Project,
    runs: list[ModelRun] | None = None,
    language: str | None = None,
    split: str | None = None,
    portable: bool | None = None,
) -> Report:
    """The error analysis report of the selection (all runs with judged drafts or check
    findings when ``runs`` is None)."""
    language, split = report_selection_check(project=project, language=language, split=split)
    judged = judgement_tallies(project=project, runs=runs, language=language, split=split, portable=portable)
    checks = check_tallies(project=project, runs=runs, language=language, split=split)
    if runs is None:
        runs = _default_runs(
            project=project, judged_run_ids={g[0] for g in judged}, checked_run_ids={g[0] for g in checks}
        )
    categories = list(project.categories.order_by("order", "key").values_list("key", "label"))
    order = {key: i for i, (key, _) in enumerate(categories)}
    labels = dict(categories)
    run_order = {run.pk: i for i, run in enumerate(runs)}
    run_names = {run.pk: run.name for run in runs}

    def category_position(key: str) -> tuple[int, str]:
        return (order.get(key, len(order)), key)

    judgement_rows = []
    for run in runs:
        for key, label in categories:
            counts = {name: judged[(run.pk, key, name)].count for name in LABELS if (run.pk, key, name) in judged}
            total = sum(counts.values())
            if not total:
                continue
            row = {"run": run.name, "run_id": run.pk, "category": key, "label": label, "judged": total}
            for name in LABELS:
                row[name] = counts.get(name, 0)
            row["error_rate"] = sum(counts.get(name, 0) for name in ERROR_LABELS) / total
            judgement_rows.append(row)

    check_groups = sorted(
        (g for g in checks if g[0] in run_order), key=lambda g: (run_order[g[0]], category_position(g[1]), g[2])
    )
    check_rows = [
        {
            "run": run_names[run_id],
            "run_id": run_id,
            "category": category or RECORD,
            "code": code,
            "findings": checks[(run_id, category, code)].count,
            "documents": checks[(run_id, category, code)].documents,
        }
        for run_id, category, code in check_groups
    ]

    judged_groups = sorted(
        (g for g in judged if g[0] in run_order and g[1] in labels),
        key=lambda g: (run_order[g[0]], category_position(g[1]), LABELS.index(g[2])),
    )
    entries = [("judgement", g, judged[g]) for g in judged_groups] + [("check", g, checks[g]) for g in check_groups]
    example_rows = []
    for source, (run_id, category, what), tally in entries:
        row = {"run": run_names[run_id], "category": category or RECORD, "source": source, "what": what}
        row["count"] = tally.count
        for i in range(EXAMPLES):
            row[f"example_{i + 1}"] = _document_link(project, tally.examples[i]) if i < len(tally.examples) else None
        example_rows.append(row)

    judgement_columns = [
        Column("run", "Run", "text"),
        Column("run_id", "Run id", "int"),
        Column("category", "Category", "text"),
        Column("judged", "Judged", "int"),
        *[Column(name, Judgement(name).label.capitalize(), "int") for name in LABELS],
        Column("error_rate", "Error rate", "pct"),
    ]
    tables = [
        Table(
            key="judgements",
            title="Annotators' judgements of each run's drafts",
            columns=judgement_columns,
            rows=judgement_rows,
            notes=[
                "Per field of each submitted annotation whose form was pre-filled by the run (the assignment's "
                "draft run). Error rate = judgements other than 'correct' / judged."
            ],
        ),
        Table(
            key="checks",
            title="Automated check findings on each run's candidates",
            columns=[
                Column("run", "Run", "text"),
                Column("run_id", "Run id", "int"),
                Column("category", "Category", "text"),
                Column("code", "Check", "text"),
                Column("findings", "Findings", "int"),
                Column("documents", "Documents", "int"),
            ],
            rows=check_rows,
            notes=[f"{RECORD}: findings on the whole record rather than one field."],
        ),
        Table(
            key="examples",
            title="Example documents",
            columns=[
                Column("run", "Run", "text"),
                Column("category", "Category", "text"),
                Column("source", "Source", "text"),
                Column("what", "Judgement or check", "text"),
                Column("count", "Count", "int"),
                *[Column(f"example_{i + 1}", f"Document {i + 1}", "int") for i in range(EXAMPLES)],
            ],
            rows=example_rows,
            notes=[f"Up to {EXAMPLES} documents (smallest ids) per run, category and judgement or check code."],
        ),
    ]
    meta = {
        "project": project.slug,
        "runs": ", ".join(f"{run.name} ({run.pk})" for run in runs) or "none",
        "run_ids": [run.pk for run in runs],
        "language": language or "any",
        "split": split or "any",
        "generated_at": timezone.now().isoformat(timespec="seconds"),
    }
    return Report(kind="errors", title=f"Error analysis · {project.slug}", tables=tables, meta=meta)
