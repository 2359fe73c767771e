"""``evaluate`` (CLI.md): flags, JSON shape, table, exit codes."""

import json

import pytest

from evaluation.models import EvaluationReport
from tests.factories import ProjectFactory, RunFactory

from .helpers import ENTITY_KEYS, TEXT_KEYS

pytestmark = pytest.mark.django_db

CATEGORY_KEYS = {
    "n",
    "rouge1",
    "rouge1_p",
    "rouge1_r",
    "rouge2",
    "rouge2_p",
    "rouge2_r",
    "rougeL",
    "rougeL_p",
    "rougeL_r",
    "entity_p",
    "entity_r",
    "entity_f1",
    "n_entity",
    "bertscore_p",
    "bertscore_r",
    "bertscore_f1",
    "n_bertscore",
    "ci",
}


def evaluate_json(run_cli, *args):
    result = run_cli("evaluate", "p1", *args, "--json", "-")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_json_shape(run_cli, run, small_case):
    data = evaluate_json(run_cli, "--run", str(run.pk))
    # CLI.md's keys, plus the per-language and per-split sections (keys may be added).
    assert set(data) == {"run", "gold_version", "config", "categories", "overall", "compare", "languages", "splits"}
    assert data["languages"]["en"]["categories"] == data["categories"]
    assert data["run"] == {"id": run.pk, "name": "baseline"}
    assert isinstance(data["gold_version"], str) and data["gold_version"]
    assert list(data["categories"]) == TEXT_KEYS
    assert "age" not in data["categories"] and "gender" not in data["categories"]
    for key, cat in data["categories"].items():
        assert set(cat) == CATEGORY_KEYS, key
        assert set(cat["ci"]) >= {"rouge1", "rouge2", "rougeL", "entity_f1"}
        for metric in ("rouge1", "rougeL", "entity_f1"):
            assert cat[metric] is None or 0 <= cat[metric] <= 1
    assert set(data["overall"]) >= {k for k in CATEGORY_KEYS if k != "ci"}
    assert data["compare"] is None
    assert EvaluationReport.objects.get().results == data


def test_run_by_name_and_compare(run_cli, run, other_run, small_case):
    data = evaluate_json(run_cli, "--run", "baseline", "--compare", "finetuned")
    assert data["run"]["id"] == run.pk
    assert data["compare"]["run"] == {"id": other_run.pk, "name": "finetuned"}
    assert set(data["compare"]["categories"]) == set(TEXT_KEYS)
    assert set(data["compare"]["categories"]["diagnosis"]["rougeL"]) >= {"delta", "p_bootstrap", "p_wilcoxon"}


def test_table_on_stdout(run_cli, run, small_case):
    result = run_cli("evaluate", "p1", "--run", "baseline")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert "rouge1" in lines[1] and "rougeL" in lines[1] and "entity_f1" in lines[1]
    diagnosis = next(line for line in lines if line.startswith("diagnosis "))
    data = EvaluationReport.objects.get().results["categories"]["diagnosis"]
    assert f"{data['rouge1']:.4f}" in diagnosis and f"{data['entity_f1']:.4f}" in diagnosis
    assert next(line for line in lines if line.startswith("pathology ")).split()[1:3] == ["0", "-"]
    assert any(line.startswith("overall") for line in lines)
    assert f"evaluation {EvaluationReport.objects.get().pk} stored" in result.err


def test_table_with_compare(run_cli, run, other_run, small_case):
    result = run_cli("evaluate", "p1", "--run", "baseline", "--compare", str(other_run.pk))
    assert result.code == 0, result.err
    assert "minus run" in result.out


def test_json_to_a_file(run_cli, run, small_case, tmp_path):
    path = tmp_path / "report.json"
    result = run_cli("evaluate", "p1", "--run", "baseline", "--json", str(path), "--metrics", "rouge")
    assert result.code == 0, result.err
    assert result.out == ""
    data = json.loads(path.read_text())
    assert data["config"]["metrics"] == ["rouge"]
    assert all(cat["entity_f1"] is None for cat in data["categories"].values())
    assert str(path) in result.err


def test_filters_and_threshold(run_cli, run, small_case):
    data = evaluate_json(run_cli, "--run", "baseline", "--language", "de", "--split", "test", "--fuzzy-threshold", "80")
    assert data["config"]["language"] == "de" and data["config"]["split"] == "test"
    assert data["config"]["entity"]["fuzzy_threshold"] == 80.0
    assert all(cat["n"] == 0 for cat in data["categories"].values())


def test_no_ok_candidates_is_still_valid_json(run_cli, project):
    RunFactory(project=project, name="empty")
    data = evaluate_json(run_cli, "--run", "empty")
    assert all(cat["n"] == 0 and cat["rougeL"] is None for cat in data["categories"].values())
    assert all(data["categories"][key]["n_entity"] == 0 for key in ENTITY_KEYS)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", "nosuch"], "no run is named 'nosuch' in project 'p1'"),
        (["--run", "999999"], "run 999999 does not exist in project 'p1'"),
        (["--run", "baseline", "--compare", "nosuch"], "no run is named 'nosuch'"),
        (["--run", "baseline", "--metrics", "bleu"], "unknown metric 'bleu'"),
        (["--run", "baseline", "--matcher", "scispacy"], "the scispacy matcher needs the scispacy package"),
        (["--run", "baseline", "--metrics", "rouge,meteor"], "unknown metric 'meteor'"),
        (["--run", "baseline", "--split", "dev"], "unknown split 'dev'"),
        (["--run", "baseline", "--fuzzy-threshold", "150"], "between 0 and 100"),
        (["--run", "baseline", "--json", "/nonexistent-dir/x.json"], "does not exist"),
        (["--run", "baseline", "--async", "--json", "-"], "--json"),
    ],
)
def test_refusals_exit_1_without_writing(run_cli, run, args, message):
    result = run_cli("evaluate", "p1", *args)
    assert result.code == 1, result.out
    assert result.err_lines[0].startswith("error: ")
    assert message in result.err
    assert "Traceback" not in result.err
    assert not EvaluationReport.objects.exists()


def test_unknown_project_and_run_of_another_project(run_cli, run):
    result = run_cli("evaluate", "nosuch", "--run", "baseline")
    assert result.code == 1 and "project 'nosuch' does not exist" in result.err
    RunFactory(project=ProjectFactory(slug="p2"), name="theirs")
    result = run_cli("evaluate", "p1", "--run", "theirs")
    assert result.code == 1 and "no run is named 'theirs' in project 'p1'" in result.err


@pytest.mark.parametrize("args", [[], ["--run"], ["--run", "baseline", "--matcher", "umls"]])
def test_usage_errors_exit_2(run_cli, run, args):
    result = run_cli("evaluate", "p1", *args)
    assert result.code == 2


# transaction=True: the task is sent on commit, as in a real process.
@pytest.mark.django_db(transaction=True)
def test_async_queues_on_the_evaluation_queue(run_cli, run, small_case, monkeypatch):
    from evaluation import tasks

    sent = []
    monkeypatch.setattr(tasks.evaluation_evaluate, "apply_async", lambda **kw: sent.append(kw))
    result = run_cli("evaluate", "p1", "--run", "baseline", "--async")
    assert result.code == 0, result.err
    report = EvaluationReport.objects.get()
    assert result.out.strip() == f"evaluation {report.pk} queued"
    assert report.status == "queued" and report.results == {}
    assert sent == [{"args": [report.pk], "queue": "evaluation"}]


@pytest.mark.django_db(transaction=True)
def test_async_without_a_broker_says_so(run_cli, run, monkeypatch):
    from evaluation import tasks

    def refuse(**kwargs):
        raise ConnectionRefusedError("no broker")

    monkeypatch.setattr(tasks.evaluation_evaluate, "apply_async", refuse)
    result = run_cli("evaluate", "p1", "--run", "baseline", "--async")
    assert result.code == 1
    assert "could not be queued" in result.err and "CELERY_BROKER_URL" in result.err
    assert EvaluationReport.objects.get().status == "failed"
