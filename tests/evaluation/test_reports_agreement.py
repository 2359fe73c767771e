"""Agreement overview report: the agreement table equals the stored agreement report, the
report chosen is the latest finished one of the selection (stale or not), and the
per-annotator throughput equals a direct computation."""

import statistics
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from evaluation.models import AgreementReport
from evaluation.report_tables import Cell
from evaluation.services.agreement import agreement_run
from evaluation.services.report_agreement import AGREEMENT_COLUMNS, agreement_overview_report
from tests.factories import AssignmentFactory

from .agreement_helpers import annotate, small_agreement_case
from .helpers import add_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(project, make_member):
    return small_agreement_case(project, make_member)


def test_agreement_table_equals_the_stored_report(project, case):
    stored = agreement_run(project=project)
    report = agreement_overview_report(project=project)
    results = AgreementReport.objects.get(pk=stored.pk).results
    rows = {row["category"]: row for row in report.table("agreement").rows}
    assert set(rows) == set(results["categories"]) | {"overall"}
    for key, block in results["categories"].items():
        for name, _, _ in AGREEMENT_COLUMNS:
            assert rows[key][name] == block.get(name), (key, name)
    for name, _, _ in AGREEMENT_COLUMNS:
        assert rows["overall"][name] == results["overall"].get(name)
    # Categories in schema order, overall last.
    keys = list(project.categories.order_by("order").values_list("key", flat=True))
    listed = [row["category"] for row in report.table("agreement").rows]
    assert listed[:-1] == [k for k in keys if k in results["categories"]]
    assert listed[-1] == "overall"
    # Something real is compared: the case has a defined alpha for diagnosis.
    assert rows["diagnosis"]["krippendorff_alpha"] is not None
    gold_rows = report.table("annotator_vs_gold").rows
    expected = [
        (key, annotator, figures["n"], figures["rougeL"], figures["entity_f1"])
        for key, block in results["categories"].items()
        for annotator, figures in block["annotator_vs_gold"].items()
    ]
    got = [(r["category"], r["annotator"], r["n"], r["rougeL"], r["entity_f1"]) for r in gold_rows]
    assert sorted(got, key=str) == sorted(expected, key=str)
    assert expected, "the case scores annotators against gold"
    assert report.meta["agreement_report"] == stored.pk
    assert report.meta["agreement_report_url"] == reverse("agreement-detail", args=[project.slug, stored.pk])
    assert report.meta["agreement_stale"] is False


def test_latest_done_report_of_the_selection_and_staleness(project, case):
    older = agreement_run(project=project, language="en")
    newer = agreement_run(project=project, language="en")
    agreement_run(project=project)  # another selection (any language)
    AgreementReport.objects.create(project=project, status="queued", config={"language": "en", "split": None})
    report = agreement_overview_report(project=project, language="en")
    assert report.meta["agreement_report"] == newer.pk != older.pk
    assert report.meta["agreement_stale"] is False
    # A new submission makes it stale (and the report says so).
    annotate(add_document(project, gold=None), case["annotators"][0], judgements={"diagnosis": "correct"})
    report = agreement_overview_report(project=project, language="en")
    assert report.meta["agreement_report"] == newer.pk
    assert report.meta["agreement_stale"] is True
    assert report.meta["agreement"].startswith("stale")


def test_without_a_report_the_table_says_so_and_links_the_agreement_page(project, case):
    agreement_run(project=project, language="en")
    report = agreement_overview_report(project=project, language="de")
    page = reverse("agreement-list", args=[project.slug])
    (row,) = report.table("agreement").rows
    assert isinstance(row["category"], Cell) and row["category"].url == page
    assert any(page in note for note in report.table("agreement").notes)
    assert report.meta["agreement_report"] is None
    assert report.meta["agreement_page"] == page


def test_annotator_throughput_equals_a_direct_computation(project, make_member):
    docs = [add_document(project, language="en", split="test") for _ in range(8)]
    german = add_document(project, language="de", split="test")
    alice, bob = make_member(project, "annotator", "alice"), make_member(project, "annotator", "bob")
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    plan = [
        # (document, annotator, status, seconds, submitted at)
        (docs[0], alice, "submitted", 30.0, t0),
        (docs[1], alice, "submitted", 90.0, t0 + timedelta(hours=1)),
        (docs[2], alice, "submitted", 60.0, t0 + timedelta(hours=2)),
        (docs[3], alice, "submitted", 0.0, t0 + timedelta(hours=3)),  # imported: no time recorded
        (docs[4], alice, "skipped", 12.0, None),
        (docs[5], alice, "in_progress", 40.0, None),
        (docs[6], alice, "assigned", 0.0, None),
        (docs[0], bob, "submitted", 100.0, t0 + timedelta(days=1)),
        (docs[1], bob, "submitted", 300.0, t0 + timedelta(days=2)),
        (docs[7], bob, "withdrawn", 5.0, None),
        (german, bob, "submitted", 1000.0, t0 + timedelta(days=3)),
    ]
    for document, annotator, status, seconds, at in plan:
        AssignmentFactory(
            document=document, annotator=annotator, status=status, time_spent_seconds=seconds, submitted_at=at
        )
    rows = {row["annotator"]: row for row in agreement_overview_report(project=project).table("annotators").rows}
    assert list(rows) == ["alice", "bob"]

    def direct(annotator, language=None):
        mine = [p for p in plan if p[1] == annotator and (language is None or p[0].language == language)]
        timed = [p[3] for p in mine if p[2] == "submitted" and p[3] > 0]
        submitted_at = [p[4] for p in mine if p[2] == "submitted"]
        return {
            "assigned": sum(p[2] == "assigned" for p in mine),
            "in_progress": sum(p[2] == "in_progress" for p in mine),
            "submitted": sum(p[2] == "submitted" for p in mine),
            "skipped": sum(p[2] == "skipped" for p in mine),
            "withdrawn": sum(p[2] == "withdrawn" for p in mine),
            "total": len(mine),
            "timed": len(timed),
            "seconds_total": sum(timed),
            "seconds_median": statistics.median(timed),
            "documents_per_hour": len(timed) / (sum(timed) / 3600),
            "first_submitted": min(submitted_at).isoformat(timespec="seconds"),
            "last_submitted": max(submitted_at).isoformat(timespec="seconds"),
        }

    for annotator in (alice, bob):
        row = rows[annotator.username]
        for key, value in direct(annotator).items():
            assert row[key] == pytest.approx(value) if isinstance(value, float) else row[key] == value, key
    assert rows["alice"]["seconds_median"] == 60.0  # 30, 60, 90; the untimed one left out
    assert rows["alice"]["documents_per_hour"] == pytest.approx(3 / (180 / 3600))
    english = {
        r["annotator"]: r for r in agreement_overview_report(project=project, language="en").table("annotators").rows
    }
    assert english["bob"]["submitted"] == 2
    assert english["bob"]["seconds_median"] == direct(bob, "en")["seconds_median"] == 200.0
