"""BERTScore inside ``evaluate``: pairs policy, figures, CIs, per-document scores, the gpu
queue, progress. The scorer (helper module evaluation.services.bertscore) is replaced by a
deterministic stand-in, except in the last test, which runs the offline model."""

import json

import pytest

from evaluation import tasks
from evaluation.metrics.stats import bootstrap_ci, mean
from evaluation.models import EvaluationReport
from evaluation.services import evaluation_queue, evaluation_run
from evaluation.services import reports as reports_module

pytestmark = pytest.mark.django_db


def fake_triple(pred: str, gold: str) -> tuple[float, float, float]:
    p, r = (len(pred) % 7) / 10, (len(gold) % 5) / 10
    return p, r, (p + r) / 2


class FakeConfig:
    def __init__(self, **requested):
        self.requested = requested

    def as_report_config(self) -> dict:
        return {"model": "fake-model", "weights_sha256": "0" * 64, "num_layers": 6, "requested_here": self.requested}


class FakeResult:
    def __init__(self, scores):
        self.scores, self.new_pairs, self.cached_pairs = scores, len(scores), 0


@pytest.fixture
def fake_bertscore(monkeypatch):
    bertscore = pytest.importorskip("evaluation.services.bertscore")
    calls = []

    def resolve(**kwargs):
        calls.append(("resolve", kwargs))
        return FakeConfig(**kwargs)

    def pairs_score(*, pairs, config, progress=None):
        calls.append(("score", list(pairs)))
        if progress is not None:
            progress(0, len(pairs))
            progress(len(pairs), len(pairs))
        return FakeResult([fake_triple(p, g) for p, g in pairs])

    monkeypatch.setattr(bertscore, "bertscore_config_resolve", resolve)
    monkeypatch.setattr(bertscore, "bertscore_pairs_score", pairs_score)
    return calls


def test_bertscore_on_all_pairs_by_default(run, small_case, fake_bertscore):
    d1, d2 = small_case["documents"][:2]
    report = evaluation_run(run=run, metrics="rouge,entity,bertscore", bertscore_model="/models/x")
    results = report.results
    life_style = results["categories"]["life_style"]
    # ROUGE: d1 only (d2's life_style gold is N/A); BERTScore: every scored document (the paper)
    assert life_style["n"] == 1 and life_style["n_bertscore"] == 2
    expected = [fake_triple("non-smoker", "Smoker, 20 pack-years"), fake_triple("smoker", "N/A")]
    assert life_style["bertscore_f1"] == mean([t[2] for t in expected])
    assert life_style["bertscore_p"] == mean([t[0] for t in expected])
    assert life_style["ci"]["bertscore_f1"] == list(bootstrap_ci([t[2] for t in expected]))
    age = results["categories"].get("age")
    assert age is None  # no text metrics for age
    family = results["categories"]["family_history"]  # gold N/A everywhere: BERTScore only
    assert family["n"] == 0 and family["n_bertscore"] == 2 and family["rouge1"] is None
    assert results["overall"]["n_bertscore"] == 2 * len(results["categories"])
    assert report.per_document[str(d2.pk)]["life_style"]["bertscore_f1"] == expected[1][2]
    assert "rouge1" not in report.per_document[str(d2.pk)]["life_style"]
    assert report.per_document[str(d1.pk)]["life_style"]["rouge1"] == life_style["rouge1"]
    config = report.config["bertscore"]
    assert config["model"] == "fake-model" and config["pairs"] == "all"
    assert config["requested"]["model"] == "/models/x"
    assert (
        config["pairs_scored"] == 2 * len(results["categories"])
        and config["pairs_scored_now"] == config["pairs_scored"]
    )
    assert {"bert-score", "transformers", "torch"} <= set(report.config["packages"])
    resolve_kwargs = fake_bertscore[0][1]
    assert resolve_kwargs == {"model": "/models/x", "rescale": None, "baseline_path": None}
    assert report.progress_done == report.progress_total > 0


def test_bertscore_on_the_rouge_pairs_on_request(run, small_case, fake_bertscore):
    results = evaluation_run(run=run, metrics="rouge,bertscore", bertscore_pairs="rouge").results
    for key, category in results["categories"].items():
        assert category["n_bertscore"] == category["n"], key
    assert results["config"]["policies"]["bertscore_pairs"] == "rouge"


def test_flags_reach_the_scorer(run_cli, run, small_case, fake_bertscore):
    result = run_cli(
        "evaluate",
        "p1",
        "--run",
        "baseline",
        "--metrics",
        "bertscore",
        "--bertscore-model",
        "/m",
        "--bertscore-baseline",
        "/b.tsv",
        "--bertscore-rescale",
        "--bertscore-pairs",
        "rouge",
        "--json",
        "-",
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["categories"]["life_style"]["n_bertscore"] == 1
    assert data["categories"]["diagnosis"]["rouge1"] is None  # rouge not asked for
    assert fake_bertscore[0][1] == {"model": "/m", "rescale": True, "baseline_path": "/b.tsv"}
    table = run_cli("evaluate", "p1", "--run", "baseline", "--metrics", "rouge,bertscore")
    assert "bertscore_f1" in table.out and "n_bertscore" in table.out


def test_compare_includes_bertscore(project, run, other_run, small_case, fake_bertscore):
    from .helpers import add_candidate

    d1, d2 = small_case["documents"][:2]
    add_candidate(other_run, d1, diagnosis="pneumonia and sepsis")
    add_candidate(other_run, d2, life_style="smoker")
    report = evaluation_run(run=run, compare=other_run, metrics="rouge,bertscore")
    diagnosis = report.results["compare"]["categories"]["diagnosis"]
    assert diagnosis["bertscore_f1"]["n"] == 2
    ours = mean([fake_triple("pneumonia", "Pneumonia; sepsis")[2], fake_triple("N/A", "Heart failure")[2]])
    theirs = mean([fake_triple("pneumonia and sepsis", "Pneumonia; sepsis")[2], fake_triple("N/A", "Heart failure")[2]])
    assert diagnosis["bertscore_f1"]["delta"] == pytest.approx(ours - theirs)
    # one scorer call for both runs: distinct strings embedded once across them
    assert [c[0] for c in fake_bertscore] == ["resolve", "score"]


@pytest.mark.django_db(transaction=True)
def test_async_with_bertscore_goes_to_the_gpu_queue(run_cli, run, small_case, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.evaluation_evaluate, "apply_async", lambda **kw: sent.append(kw))
    result = run_cli("evaluate", "p1", "--run", "baseline", "--metrics", "rouge,bertscore", "--async")
    assert result.code == 0, result.err
    report = EvaluationReport.objects.get()
    assert sent == [{"args": [report.pk], "queue": "gpu"}]


def test_api_queues_bertscore_even_without_async(
    api_client, researcher, run, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(tasks.evaluation_evaluate, "apply_async", lambda **kw: sent.append(kw))
    api_client.force_authenticate(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/projects/p1/evaluations/", {"run": "baseline", "metrics": ["rouge", "bertscore"]}, format="json"
        )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["progress"] == {"done": 0, "total": 0}
    assert sent == [{"args": [body["id"]], "queue": "gpu"}]


def test_worker_writes_progress_while_scoring(
    run, small_case, fake_bertscore, monkeypatch, django_capture_on_commit_callbacks
):
    from evaluation.services import bertscore

    monkeypatch.setattr(tasks.evaluation_evaluate, "apply_async", lambda **kw: None)
    with django_capture_on_commit_callbacks(execute=True):
        report = evaluation_queue(run=run, metrics="rouge,bertscore")
    seen = []
    scorer = bertscore.bertscore_pairs_score

    def watching(*, pairs, config, progress=None):
        result = scorer(pairs=pairs, config=config, progress=progress)
        seen.append(EvaluationReport.objects.values_list("progress_done", "progress_total").get(pk=report.pk))
        return result

    monkeypatch.setattr(bertscore, "bertscore_pairs_score", watching)
    monkeypatch.setattr(reports_module, "PROGRESS_INTERVAL", 0.0)
    tasks.evaluation_evaluate(report.pk)
    done = EvaluationReport.objects.get(pk=report.pk)
    rows = 5  # candidates of the run
    pairs = done.config["bertscore"]["pairs_scored"]
    assert seen == [(rows + pairs, rows + pairs)]  # written while the job ran
    assert (done.status, done.progress_done, done.progress_total) == ("done", rows + pairs, rows + pairs)


def test_running_report_shows_its_progress(client, api_client, researcher, run):
    report = EvaluationReport.objects.create(
        project=run.project,
        run=run,
        status="running",
        metrics=["bertscore"],
        config={},
        progress_done=5,
        progress_total=10,
    )
    client.force_login(researcher)
    html = client.get(f"/p/p1/evaluations/{report.pk}/").content.decode()
    assert "5 of 10" in html and "<code>gpu</code>" in html
    api_client.force_authenticate(researcher)
    body = api_client.get(f"/api/projects/p1/evaluations/{report.pk}/").json()
    assert body["progress"] == {"done": 5, "total": 10} and body["stale"] is None


def test_a_missing_model_fails_before_scoring(run, small_case):
    pytest.importorskip("evaluation.services.bertscore")
    from elmtex_site.errors import ApplicationError

    with pytest.raises(ApplicationError, match="BERTScore"):
        evaluation_run(run=run, metrics="rouge,bertscore", bertscore_model="/nowhere/no-such-model")
    assert not EvaluationReport.objects.exists()


def test_offline_model_end_to_end_and_cache_reuse(run, small_case):
    """The real scorer (offline MiniLM weights): values from bert-score, and a second
    evaluation scores no new pair."""
    pytest.importorskip("evaluation.services.bertscore")
    first = evaluation_run(run=run, metrics="bertscore", bertscore_pairs="rouge")
    assert first.config["bertscore"]["pairs_scored_now"] == first.config["bertscore"]["pairs_scored"] > 0
    diagnosis = first.results["categories"]["diagnosis"]
    assert diagnosis["n_bertscore"] == diagnosis["n"] == 2 and -1 <= diagnosis["bertscore_f1"] <= 1
    second = evaluation_run(run=run, metrics="bertscore", bertscore_pairs="rouge")
    assert second.config["bertscore"]["pairs_scored_now"] == 0
    assert second.results["categories"] == first.results["categories"]
