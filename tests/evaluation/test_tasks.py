"""``evaluate --async``: the worker's side."""

import pytest

from evaluation import tasks
from evaluation.models import EvaluationReport
from evaluation.services import evaluation_queue, evaluation_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(run, small_case, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(tasks.evaluation_evaluate, "apply_async", lambda **kw: sent.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        report = evaluation_queue(run=run, language="en")
    assert sent == [{"args": [report.pk], "queue": "evaluation"}]
    return report


def test_worker_scores_a_queued_report(queued, run):
    tasks.evaluation_evaluate(queued.pk)
    report = EvaluationReport.objects.get(pk=queued.pk)
    assert report.status == "done"
    assert report.results["config"]["language"] == "en"
    # the same figures as an in-process evaluation
    assert report.results["categories"] == evaluation_run(run=run, language="en").results["categories"]


def test_a_report_is_scored_once(queued, django_assert_max_num_queries):
    tasks.evaluation_evaluate(queued.pk)
    with django_assert_max_num_queries(1):
        tasks.evaluation_evaluate(queued.pk)  # redelivered: not queued any more, skipped


def test_a_failure_is_stored_on_the_report(queued, monkeypatch):
    from evaluation.services import reports

    def broken(**kwargs):
        raise RuntimeError("patient text must not leak")

    monkeypatch.setattr(reports, "evaluation_compute", broken)
    with pytest.raises(RuntimeError):
        tasks.evaluation_evaluate(queued.pk)
    report = EvaluationReport.objects.get(pk=queued.pk)
    assert report.status == "failed"
    assert report.error == "unexpected failure (RuntimeError)"
