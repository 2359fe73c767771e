"""Creating, cancelling and resuming runs (no worker: the start task is captured)."""

from datetime import timedelta

import pytest
from django.utils import timezone

import elmtex_site
from elmtex_site.errors import ApplicationError
from inference import prompts
from inference.models import Candidate, ModelRun
from inference.services.runs import external_id_order, run_cancel, run_create, run_resume
from tests.factories import CandidateFactory, DocumentFactory, EndpointFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(monkeypatch):
    """Run ids whose start task was sent."""
    sent = []
    monkeypatch.setattr("inference.tasks.run_start.delay", lambda run_id: sent.append(run_id))
    return sent


@pytest.fixture
def endpoint():
    return EndpointFactory(name="tgi")


def docs(project, ids, **kwargs):
    return [DocumentFactory(project=project, external_id=str(i), **kwargs) for i in ids]


def test_create_makes_one_pending_candidate_per_document_and_freezes_the_config(project, endpoint):
    docs(project, range(1, 6))
    run = run_create(project=project, endpoint=endpoint)
    assert run.status == "queued"
    assert run.total == 5
    assert Candidate.objects.filter(run=run, status="pending").count() == 5
    keys = list(project.categories.order_by("order").values_list("key", flat=True))
    config = run.config
    assert config["keys"] == keys
    assert config["output_schema"] == prompts.output_schema(keys)
    assert config["prompt_template"]["version"] == prompts.PROMPT_VERSION
    assert config["generation"]["max_new_tokens"] == 2048
    assert config["endpoint"] == {
        "name": "tgi",
        "url": endpoint.base_url,
        "mode": "chat",
        "model_id": "test/model",
        "info": endpoint.info,
    }
    assert config["platform_version"] == elmtex_site.__version__
    assert config["selection"] == {"language": None, "split": None, "limit": None}


def test_start_is_enqueued_only_when_the_transaction_commits(
    project, endpoint, started, django_capture_on_commit_callbacks
):
    docs(project, [1])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = run_create(project=project, endpoint=endpoint)
    assert started == []
    for callback in callbacks:
        callback()
    assert started == [run.pk]


def test_broker_down_leaves_the_run_queued_with_what_to_do(
    project, endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(run_id):
        raise ConnectionRefusedError(111, "refused")

    monkeypatch.setattr("inference.tasks.run_start.delay", refuse)
    docs(project, [1])
    with django_capture_on_commit_callbacks(execute=True):
        run = run_create(project=project, endpoint=endpoint)
    run.refresh_from_db()
    assert run.status == "queued"
    assert f"resume_run {run.pk}" in run.error


def test_limit_takes_the_first_documents_by_numeric_patient_id(project, endpoint):
    docs(project, [10, 9, 2, 1, "b7", "a7", 100])
    run = run_create(project=project, endpoint=endpoint, limit=4)
    ids = list(Candidate.objects.filter(run=run).values_list("document__external_id", flat=True))
    assert sorted(ids, key=external_id_order) == ["1", "2", "9", "10"]
    assert run.config["selection"]["limit"] == 4
    everything = run_create(project=project, endpoint=endpoint, name="all")
    ordered = Candidate.objects.filter(run=everything).order_by("pk").values_list("document__external_id", flat=True)
    assert list(ordered) == ["1", "2", "9", "10", "100", "a7", "b7"]


def test_language_and_split_filters(project, endpoint):
    docs(project, [1, 2], language="en", split="test")
    docs(project, [1], language="de", split="test")
    docs(project, [3], language="en", split="train")
    run = run_create(project=project, endpoint=endpoint, language="en", split="test")
    assert run.total == 2
    assert set(Candidate.objects.filter(run=run).values_list("document__language", flat=True)) == {"en"}


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"language": "fr"}, "has no documents with language 'fr'"),
        ({"split": "holdout"}, "split 'holdout' is not known"),
        ({"limit": 0}, "at least 1"),
        ({"strategy": "advanced"}, "no training-split documents with gold"),
        ({"strategy": "finetuned", "k": 3}, "apply to --strategy advanced only"),
        ({"strategy": "magic"}, "strategy 'magic' is not known"),
        ({"name": "123"}, "all digits"),
    ],
)
def test_refusals_write_nothing(project, endpoint, kwargs, fragment):
    docs(project, [1])
    with pytest.raises(ApplicationError) as exc:
        run_create(project=project, endpoint=endpoint, **kwargs)
    assert fragment in exc.value.message
    assert not ModelRun.objects.exists()
    assert not Candidate.objects.exists()


def test_empty_project_is_refused(project, endpoint):
    with pytest.raises(ApplicationError, match="has no documents; import documents"):
        run_create(project=project, endpoint=endpoint)


def test_names_are_unique_in_a_project_and_generated_ones_do_not_clash(project, endpoint):
    docs(project, [1])
    first = run_create(project=project, endpoint=endpoint)
    second = run_create(project=project, endpoint=endpoint, name="  ")  # blank: generated too
    assert first.name == "tgi-naive-1"
    assert second.name == "tgi-naive-2"
    with pytest.raises(ApplicationError, match=f"already has a run named 'tgi-naive-1' \\(run {first.pk}\\)"):
        run_create(project=project, endpoint=endpoint, name="tgi-naive-1")


def test_many_documents_are_inserted_in_bulk(project, endpoint, django_assert_max_num_queries):
    DocumentFactory.create_batch(300, project=project)
    with django_assert_max_num_queries(20):
        run = run_create(project=project, endpoint=endpoint)
    assert Candidate.objects.filter(run=run).count() == 300


@pytest.mark.parametrize("status", ["queued", "running", "paused"])
def test_cancel_keeps_pending_candidates_pending(project, status):
    run = RunFactory(project=project, status=status, heartbeat_at=timezone.now())
    CandidateFactory(run=run, status="pending", values=None)
    CandidateFactory(run=run, status="ok")
    run = run_cancel(run=run)
    assert run.status == "cancelled"
    assert sorted(Candidate.objects.filter(run=run).values_list("status", flat=True)) == ["ok", "pending"]


@pytest.mark.parametrize("status", ["finished", "cancelled", "failed"])
def test_cancel_refuses_stopped_runs(project, status):
    run = RunFactory(project=project, status=status)
    with pytest.raises(ApplicationError, match=f"run {run.pk} is {status}"):
        run_cancel(run=run)
    run.refresh_from_db()
    assert run.status == status


def test_resume_redoes_only_documents_without_an_ok_candidate(project, started, django_capture_on_commit_callbacks):
    run = RunFactory(project=project, status="finished", finished_at=timezone.now())
    ok = CandidateFactory(run=run, status="ok")
    redo = [
        CandidateFactory(run=run, status=s, values=None, error="x")
        for s in ("parse_error", "failed", "too_long", "pending")
    ]
    with django_capture_on_commit_callbacks(execute=True):
        run = run_resume(run=run)
    assert run.status == "queued"
    assert run.finished_at is None
    assert started == [run.pk]
    ok.refresh_from_db()
    assert ok.status == "ok"
    for candidate in redo:
        candidate.refresh_from_db()
        assert (candidate.status, candidate.error) == ("pending", "")


def test_resume_with_nothing_to_do_is_refused(project, started):
    run = RunFactory(project=project, status="finished")
    CandidateFactory(run=run, status="ok")
    with pytest.raises(ApplicationError, match="nothing to resume"):
        run_resume(run=run)
    run.refresh_from_db()
    assert run.status == "finished"


def test_resume_refuses_a_running_run_but_takes_a_stalled_one(project, started):
    run = RunFactory(project=project, status="running", started_at=timezone.now(), heartbeat_at=timezone.now())
    CandidateFactory(run=run, status="pending", values=None)
    with pytest.raises(ApplicationError, match="still running"):
        run_resume(run=run)
    ModelRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    run.refresh_from_db()
    assert run_resume(run=run).status == "queued"


def test_imported_runs_are_neither_cancelled_nor_resumed(project):
    run = RunFactory(project=project, source="imported", endpoint=None, status="finished")
    CandidateFactory(run=run, status="parse_error", values=None)
    with pytest.raises(ApplicationError, match="imported"):
        run_resume(run=run)
    with pytest.raises(ApplicationError):
        run_cancel(run=run)
