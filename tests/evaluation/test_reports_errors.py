"""Error analysis report: judgement and check counts equal the annotations and check
results created here; example documents belong to the right run, category and label."""

import random
from collections import Counter, defaultdict

import pytest
from django.db import connection
from django.urls import reverse

from annotation.models import CheckResult, Judgement
from elmtex_site.errors import ApplicationError
from evaluation.services.report_errors import EXAMPLES, RECORD, errors_report, report_runs_resolve
from tests.factories import AnnotationFactory, AssignmentFactory, RunFactory

from .helpers import add_candidate, add_document

pytestmark = pytest.mark.django_db

LABELS = list(Judgement.values)
# The PostgreSQL aggregate and the portable streamed pass give the same figures.
PATHS = [
    pytest.param(False, marks=pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL SQL")),
    True,
]
KEYS = ["diagnosis", "life_style", "signs_symptoms", "age"]


def build_case(project, make_member, seed=7):
    """Two runs judged by three annotators on 14 documents (two German), some assignments
    not submitted, plus check findings on candidates, gold and annotations. Returns the
    expected figures computed from what was created."""
    rng = random.Random(seed)
    runs = [RunFactory(project=project, name="baseline"), RunFactory(project=project, name="finetuned")]
    unjudged_run = RunFactory(project=project, name="unused")
    annotators = [make_member(project, "annotator", name) for name in ("alice", "bob", "carol")]
    documents = [add_document(project, gold={"diagnosis": "x"}, language="de" if i >= 12 else "en") for i in range(14)]
    candidates = {}
    for run in runs:
        for document in documents:
            candidates[(run.pk, document.pk)] = add_candidate(run, document, diagnosis="d")
    judgements_made = []  # (run id, document id, language, key, label) of submitted annotations
    for i, document in enumerate(documents):
        run = runs[i % 2]
        for annotator in annotators[: 1 + i % 3]:
            status = "in_progress" if (i + annotator.pk) % 5 == 0 else "submitted"
            judgements = {key: rng.choice(LABELS) for key in KEYS if rng.random() < 0.8}
            judgements["unknown_key"] = "correct"  # not a category: never counted
            if i == 3:
                judgements["diagnosis"] = "not-a-label"  # junk label: never counted
            assignment = AssignmentFactory(document=document, annotator=annotator, status=status, draft_run=run)
            AnnotationFactory(assignment=assignment, judgements=judgements)
            if status == "submitted":
                for key, label in judgements.items():
                    if key in KEYS and label in LABELS:
                        judgements_made.append((run.pk, document.pk, document.language, key, label))
    # An annotation of a submitted assignment without draft run (empty form): no run to blame.
    AnnotationFactory(
        assignment=AssignmentFactory(document=documents[0], annotator=annotators[2], status="submitted"),
        judgements={"diagnosis": "missing"},
    )
    findings = []  # (run id, document id, language, category, code)
    for document in documents:
        for run in runs:
            for category, code in (("diagnosis", "not_grounded"), ("age", "bad_format"), ("", "unparsed")):
                if rng.random() < 0.5:
                    continue
                CheckResult.objects.create(
                    project=project,
                    document=document,
                    target="candidate",
                    target_id=candidates[(run.pk, document.pk)].pk,
                    category=category,
                    code=code,
                    message="m",
                )
                findings.append((run.pk, document.pk, document.language, category, code))
        # Findings on gold and on annotations are not a run's.
        CheckResult.objects.create(
            project=project, document=document, target="gold", target_id=document.pk, category="diagnosis", code="g"
        )
    return {
        "runs": runs,
        "unjudged_run": unjudged_run,
        "documents": documents,
        "judgements": judgements_made,
        "findings": findings,
    }


@pytest.fixture
def case(project, make_member):
    return build_case(project, make_member)


def expected_judgements(case, language=None, runs=None):
    counts = Counter()
    docs = defaultdict(set)
    for run_id, doc_id, lang, key, label in case["judgements"]:
        if (language and lang != language) or (runs and run_id not in runs):
            continue
        counts[(run_id, key, label)] += 1
        docs[(run_id, key, label)].add(doc_id)
    return counts, docs


@pytest.mark.parametrize("portable", PATHS, ids=["database", "portable"])
def test_judgement_counts_equal_the_annotations(project, case, portable):
    report = errors_report(project=project, portable=portable)
    counts, _ = expected_judgements(case)
    rows = report.table("judgements").rows
    assert {row["run"] for row in rows} == {"baseline", "finetuned"}
    assert rows, "the case judges something"
    seen = set()
    for row in rows:
        run_id = row["run_id"]
        for label in LABELS:
            assert row[label] == counts[(run_id, row["category"], label)], (row["run"], row["category"], label)
        judged = sum(counts[(run_id, row["category"], label)] for label in LABELS)
        assert row["judged"] == judged
        errors = judged - counts[(run_id, row["category"], "correct")]
        assert row["error_rate"] == pytest.approx(errors / judged)
        seen.add((run_id, row["category"]))
    expected_groups = {(run_id, key) for run_id, key, _ in counts}
    assert seen == expected_groups


@pytest.mark.parametrize("portable", PATHS, ids=["database", "portable"])
def test_examples_link_documents_of_the_right_run_category_and_label(project, case, portable):
    report = errors_report(project=project, portable=portable)
    counts, docs = expected_judgements(case)
    names = {run.pk: run.name for run in case["runs"]}
    by_name = {name: pk for pk, name in names.items()}
    judgement_rows = [row for row in report.table("examples").rows if row["source"] == "judgement"]
    assert len(judgement_rows) == len(counts)
    for row in judgement_rows:
        group = (by_name[row["run"]], row["category"], row["what"])
        assert row["count"] == counts[group]
        cells = [row[f"example_{i + 1}"] for i in range(EXAMPLES)]
        shown = [cell.value for cell in cells if cell is not None]
        assert shown == sorted(docs[group])[:EXAMPLES]
        for cell in cells:
            if cell is not None:
                assert cell.url == reverse("document-detail", args=[project.slug, cell.value])


def test_check_findings_per_run_category_and_code(project, case):
    report = errors_report(project=project)
    expected = Counter((run_id, category or RECORD, code) for run_id, _, _, category, code in case["findings"])
    got = {(row["run_id"], row["category"], row["code"]): row["findings"] for row in report.table("checks").rows}
    assert got == dict(expected)
    documents = defaultdict(set)
    for run_id, doc_id, _, category, code in case["findings"]:
        documents[(run_id, category or RECORD, code)].add(doc_id)
    for row in report.table("checks").rows:
        assert row["documents"] == len(documents[(row["run_id"], row["category"], row["code"])])
    by_name = {run.name: run.pk for run in case["runs"]}
    for row in report.table("examples").rows:
        if row["source"] != "check":
            continue
        group = (by_name[row["run"]], row["category"], row["what"])
        shown = [row[f"example_{i + 1}"].value for i in range(EXAMPLES) if row[f"example_{i + 1}"] is not None]
        assert shown == sorted(documents[group])[:EXAMPLES]


def test_language_and_run_selection(project, case):
    baseline = case["runs"][0]
    report = errors_report(project=project, runs=[baseline], language="de")
    counts, _ = expected_judgements(case, language="de", runs={baseline.pk})
    rows = report.table("judgements").rows
    assert {row["run"] for row in rows} <= {"baseline"}
    assert sum(row["judged"] for row in rows) == sum(counts.values())
    findings = Counter(
        (run_id, category or RECORD, code)
        for run_id, _, lang, category, code in case["findings"]
        if run_id == baseline.pk and lang == "de"
    )
    got = {(row["run_id"], row["category"], row["code"]): row["findings"] for row in report.table("checks").rows}
    assert got == dict(findings) != {}
    assert report.meta["language"] == "de"
    assert report.meta["run_ids"] == [baseline.pk]


def test_split_selection_counts_only_that_split(project, case):
    moved = case["documents"][:4]
    for document in moved:
        document.split = "val"
        document.save(update_fields=["split"])
    moved_ids = {d.pk for d in moved}
    report = errors_report(project=project, split="val")
    expected = sum(1 for j in case["judgements"] if j[1] in moved_ids)
    assert sum(row["judged"] for row in report.table("judgements").rows) == expected


def test_default_runs_leave_out_runs_without_anything(project, case):
    report = errors_report(project=project)
    assert case["unjudged_run"].pk not in report.meta["run_ids"]


def test_runs_resolve_by_id_and_name_and_refuses_unknown(project, case):
    baseline, finetuned = case["runs"]
    assert report_runs_resolve(project=project, text=f"{baseline.pk}, finetuned") == [baseline, finetuned]
    assert report_runs_resolve(project=project, text="") is None
    with pytest.raises(ApplicationError) as exc:
        report_runs_resolve(project=project, text="nope")
    assert exc.value.problems[0].field == "runs"
    assert exc.value.status == 400


@pytest.mark.parametrize(("kwargs", "field"), [({"split": "bogus"}, "split"), ({"language": "xx"}, "language")])
def test_bad_selection_is_refused_naming_the_parameter(project, case, kwargs, field):
    with pytest.raises(ApplicationError) as exc:
        errors_report(project=project, **kwargs)
    assert exc.value.problems[0].field == field
    assert exc.value.message.startswith(f"{field}:")


def test_empty_project_gives_empty_tables(project):
    report = errors_report(project=project)
    assert [len(t.rows) for t in report.tables] == [0, 0, 0]


@pytest.mark.parametrize("portable", PATHS, ids=["database", "portable"])
def test_examples_are_the_five_smallest_distinct_documents(project, make_member, portable):
    run = RunFactory(project=project, name="baseline")
    alice, bob = make_member(project, "annotator", "alice"), make_member(project, "annotator", "bob")
    documents = [add_document(project) for _ in range(7)]
    for document in reversed(documents):
        for annotator in (alice, bob):
            assignment = AssignmentFactory(document=document, annotator=annotator, status="submitted", draft_run=run)
            AnnotationFactory(assignment=assignment, judgements={"diagnosis": "missing"})
    report = errors_report(project=project, portable=portable)
    (row,) = report.table("judgements").rows
    assert (row["judged"], row["missing"], row["correct"], row["error_rate"]) == (14, 14, 0, 1.0)
    (example,) = report.table("examples").rows
    assert example["count"] == 14
    assert [example[f"example_{i + 1}"].value for i in range(EXAMPLES)] == [d.pk for d in documents[:EXAMPLES]]
