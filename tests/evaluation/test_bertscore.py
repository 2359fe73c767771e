"""BERTScore: same numbers as bert-score called directly, its traps handled, the cache."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from elmtex_site.errors import ApplicationError
from evaluation.metrics import bertscore as metric
from evaluation.models import BertScoreCache
from evaluation.services import bertscore as service
from evaluation.tasks_bertscore import BERTSCORE_QUEUE, bertscore_warm

from .helpers import add_candidate, add_document

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-6

PREDICTIONS = [
    "Community-acquired pneumonia of the right lower lobe; sepsis.",
    "Type 2 diabetes mellitus, on metformin 1000 mg twice daily.",
    "Smoker, 20 pack-years; drinks alcohol occasionally.",
    "Mother had breast cancer at 52; father with coronary heart disease.",
    "N/A",
    "Hypertension",
    "Kawasaki-Syndrom mit Koronaraneurysmen; Fieber über fünf Tage.",
    "Appendectomy in 2012, cholecystectomy 2019.",
    "Type 2 diabetes mellitus, on metformin 1000 mg twice daily.",  # repeated string
    "Atrial fibrillation, anticoagulated with apixaban 5 mg.",
    "Asthma since childhood",
    "no known allergies",
]
REFERENCES = [
    "Right lower lobe pneumonia with sepsis.",
    "Diabetes mellitus type 2 treated with metformin.",
    "Smoker (20 pack-years), occasional alcohol.",
    "Family history: mother breast cancer, father CHD.",
    "N/A",
    "Arterial hypertension, stage 2.",
    "Kawasaki-Syndrom; Koronaraneurysmen.",
    "N/A",
    "Diabetes mellitus type 2 treated with metformin.",  # repeated pair
    "Atrial fibrillation on apixaban.",
    "Bronchial asthma",
    "Penicillin allergy (rash).",
]
PAIRS = list(zip(PREDICTIONS, REFERENCES, strict=True))


@pytest.fixture(scope="module")
def model_dir() -> str:
    directory, _ = service._package_model()
    return str(directory)


@pytest.fixture(scope="module")
def reference(model_dir):
    """bert-score called directly, as the issue states the offline setting."""
    import bert_score

    p, r, f = bert_score.score(PREDICTIONS, REFERENCES, model_type=model_dir, num_layers=6, idf=False)
    return list(zip(p.tolist(), r.tolist(), f.tolist(), strict=True))


@pytest.fixture
def config():
    return service.bertscore_config_resolve(model="default", device="cpu")


def assert_close(ours, theirs):
    assert len(ours) == len(theirs)
    for got, want in zip(ours, theirs, strict=True):
        assert got == pytest.approx(want, abs=TOLERANCE)


def test_scores_equal_bert_score_called_directly(config, reference):
    result = service.bertscore_pairs_score(pairs=PAIRS, config=config)
    assert_close(result.scores, reference)
    assert result.new_pairs == len(set(PAIRS)) and result.cached_pairs == 0
    assert result.device == "cpu"
    # Loading the model must not switch huggingface_hub offline for the whole process: the
    # worker that scores also talks to TGI endpoints through it (and its children inherit it).
    assert "HF_HUB_OFFLINE" not in os.environ


def test_small_chunks_embed_each_distinct_string_once(config, reference, monkeypatch):
    embedded = []
    original = metric._embed

    def spy(scorer, strings, batch_size):
        embedded.extend(strings)
        return original(scorer, strings, batch_size)

    monkeypatch.setattr(metric, "_embed", spy)
    scorer = metric.scorer_load(model_dir=config.model_dir, num_layers=6, device="cpu")
    scores = metric.pairs_score(scorer, PAIRS, batch_size=4, chunk_pairs=3)
    assert_close(scores, reference)
    assert len(embedded) == len(set(embedded)) == len(set(PREDICTIONS) | set(REFERENCES))


def test_empty_strings_score_zero_and_do_not_disturb_the_others(config, reference):
    pairs = [("", REFERENCES[0]), (PREDICTIONS[1], "   "), ("", ""), *PAIRS]
    result = service.bertscore_pairs_score(pairs=pairs, config=config)
    assert result.scores[:3] == [metric.EMPTY_RAW] * 3
    assert_close(result.scores[3:], reference)


def test_path_containing_t5_is_loaded_as_what_it_holds(model_dir, tmp_path, reference):
    # bert-score would load any path containing "t5" with T5EncoderModel.
    t5_dir = tmp_path / "t5-lookalike"
    t5_dir.mkdir()
    for item in Path(model_dir).iterdir():
        (t5_dir / item.name).symlink_to(item)
    config = service.bertscore_config_resolve(model=str(t5_dir), num_layers=6, device="cpu")
    assert config.source == "path"
    result = service.bertscore_pairs_score(pairs=PAIRS, config=config)
    assert_close(result.scores, reference)
    # Same files: same weight hash and scorer key as the package copy (the cache is shared).
    assert config.weight_hash == service.bertscore_config_resolve(model="default").weight_hash


def test_rescale_without_a_baseline_is_recorded_as_not_applied(reference):
    config = service.bertscore_config_resolve(model="default", rescale=True, device="cpu")
    assert config.rescale_requested is True and config.rescale_applied is False
    report = config.as_report_config()
    assert report["rescale_requested"] is True and report["rescale_applied"] is False
    assert report["baseline_file"] is None and not report["hash"].endswith("rescaled")
    assert_close(service.bertscore_pairs_score(pairs=PAIRS, config=config).scores, reference)


def test_a_baseline_file_of_ones_own_is_applied(model_dir, tmp_path):
    import bert_score

    baseline = tmp_path / "minilm-baseline.tsv"
    rows = ["LAYER,P,R,F"] + [f"{layer},0.{30 + layer}1,0.{20 + layer}7,0.{25 + layer}3" for layer in range(7)]
    baseline.write_text("\n".join(rows) + "\n")
    config = service.bertscore_config_resolve(model="default", baseline_path=str(baseline), device="cpu")
    assert config.rescale_requested and config.rescale_applied
    assert config.as_report_config()["hash"].endswith("-custom-rescaled")
    assert config.scorer_key != service.bertscore_config_resolve(model="default").scorer_key

    pairs = [*PAIRS, ("", REFERENCES[0])]
    p, r, f = bert_score.score(
        PREDICTIONS,
        REFERENCES,
        model_type=model_dir,
        num_layers=6,
        idf=False,
        rescale_with_baseline=True,
        lang="en",
        baseline_path=str(baseline),
    )
    result = service.bertscore_pairs_score(pairs=pairs, config=config)
    assert_close(result.scores[:-1], list(zip(p.tolist(), r.tolist(), f.tolist(), strict=True)))
    # An empty side: raw 0, rescaled like any pair ((0 - b) / (1 - b)).
    b = config.baseline
    assert_close(result.scores[-1:], [tuple((0 - v) / (1 - v) for v in b)])


def test_model_files_not_matching_the_record_are_refused(model_dir, tmp_path, monkeypatch):
    copy = tmp_path / "model"
    copy.mkdir()
    for item in Path(model_dir).iterdir():
        if item.name != "vocab.txt":
            (copy / item.name).symlink_to(item)
    shutil.copy(Path(model_dir) / "vocab.txt", copy / "vocab.txt")
    with open(copy / "vocab.txt", "a") as handle:
        handle.write("tampered\n")
    _, expected = service._package_model()
    monkeypatch.setattr(service, "_package_model", lambda: (copy, expected))
    with pytest.raises(ApplicationError) as caught:
        service.bertscore_config_resolve()
    message = str(caught.value)
    assert "vocab.txt (SHA-256 differs)" in message and "reinstall" in message

    (copy / "model.safetensors").unlink()
    with pytest.raises(ApplicationError, match=r"model.safetensors \(missing\)"):
        service.bertscore_config_resolve()


def test_a_model_not_on_this_machine_is_refused_not_downloaded():
    with pytest.raises(ApplicationError, match="never downloaded"):
        service.bertscore_config_resolve(model="elmtex-test/no-such-model")


def test_second_evaluation_scores_no_new_pairs(config, monkeypatch):
    seen = []
    first = service.bertscore_pairs_score(pairs=PAIRS, config=config, progress=lambda d, t: seen.append((d, t)))
    assert first.new_pairs == len(set(PAIRS)) and first.cached_pairs == 0
    assert seen[0] == (0, len(PAIRS)) and seen[-1] == (len(PAIRS), len(PAIRS))
    assert BertScoreCache.objects.filter(scorer_key=config.scorer_key).count() == len(set(PAIRS))

    def no_model(**kwargs):
        raise AssertionError("nothing should be scored")

    monkeypatch.setattr(metric, "scorer_load", no_model)
    seen.clear()
    second = service.bertscore_pairs_score(pairs=PAIRS, config=config, progress=lambda d, t: seen.append((d, t)))
    assert second.new_pairs == 0 and second.cached_pairs == len(set(PAIRS))
    assert second.scores == first.scores
    assert seen == [(len(PAIRS), len(PAIRS))]


def test_report_config_says_what_scored_without_machine_paths(config, model_dir):
    report = config.as_report_config()
    assert report["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert report["source"] == "package"
    assert report["weight_hash"] == f"sha256:{config.weight_hash}"
    assert report["files_sha256"]["model.safetensors"] == (
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    )
    assert (report["num_layers"], report["idf"]) == (6, False)
    assert (report["rescale_requested"], report["rescale_applied"]) == (False, False)
    assert report["hash"] == (
        f"sentence-transformers/all-MiniLM-L6-v2_L6_no-idf_version={report['versions']['bert-score']}"
        f"(hug_trans={report['versions']['transformers']})"
    )
    assert set(report["versions"]) == {"bert-score", "transformers", "torch"}
    assert report["scorer_key"] == config.scorer_key and report["device"] == "cpu"
    assert model_dir not in json.dumps(report)


def test_device_and_batch_size_settings(settings):
    settings.ELMTEX_BERTSCORE_DEVICE = "cpu"
    settings.ELMTEX_BERTSCORE_BATCH_SIZE = 8
    config = service.bertscore_config_resolve()
    assert (config.device, config.batch_size) == ("cpu", 8)
    assert config.scorer_key == service.bertscore_config_resolve(batch_size=64, device="cuda").scorer_key


def test_warm_task_on_the_gpu_queue_fills_the_cache(project, run, monkeypatch):
    monkeypatch.setenv("ELMTEX_BERTSCORE_DEVICE", "cpu")
    document = add_document(project, gold={"diagnosis": "Pneumonia; sepsis"})
    add_candidate(run, document, diagnosis="pneumonia")
    add_candidate(run, add_document(project, gold={"diagnosis": "Asthma"}), status="failed")
    assert bertscore_warm.queue == BERTSCORE_QUEUE == "gpu"
    outcome = bertscore_warm.apply(args=[run.pk], kwargs={"model": "default"}).get()
    pairs = service.bertscore_run_pairs(run=run)
    assert ("pneumonia", "Pneumonia; sepsis") in pairs
    assert outcome == {"run": run.pk, "new_pairs": len(set(pairs)), "cached_pairs": 0, "device": "cpu"}
    again = service.bertscore_run_warm(run=run, config=service.bertscore_config_resolve(model="default"))
    assert again.new_pairs == 0


def test_resolving_a_configuration_does_not_load_torch():
    code = (
        "import django, sys; django.setup();"
        "from evaluation.services.bertscore import bertscore_config_resolve;"
        "bertscore_config_resolve(rescale=True);"
        "print(sorted(m for m in ('torch', 'transformers', 'bert_score') if m in sys.modules))"
    )
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="elmtex_site.settings")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _fake_hf_cache(root: Path, model_id: str, source: str) -> Path:
    """A Hugging Face cache entry of ``model_id`` holding ``source``'s files (weights as
    content-addressed blobs, like the hub client writes them)."""
    from evaluation.metrics.bertscore import file_sha256

    repo = root / f"models--{model_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / ("0" * 40)
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    snapshot.mkdir(parents=True)
    for item in Path(source).iterdir():
        if item.is_file():
            blob = repo / "blobs" / file_sha256(item)
            blob.symlink_to(item)
            (snapshot / item.name).symlink_to(blob)
    return repo


def test_the_papers_model_is_used_when_its_weights_are_in_the_local_cache(model_dir, tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    assert service.bertscore_config_resolve().model == "sentence-transformers/all-MiniLM-L6-v2"
    repo = _fake_hf_cache(tmp_path, "microsoft/deberta-xlarge-mnli", model_dir)
    config = service.bertscore_config_resolve()
    assert (config.model, config.source, config.num_layers) == (
        "microsoft/deberta-xlarge-mnli",
        "huggingface-cache",
        40,
    )
    assert config.rescale_requested and config.rescale_applied
    assert config.baseline_file == "bert_score/rescale_baseline/en/microsoft/deberta-xlarge-mnli.tsv"
    assert config.as_report_config()["hash"].startswith("microsoft/deberta-xlarge-mnli_L40_no-idf_version=")
    assert config.as_report_config()["hash"].endswith(")-rescaled")
    # A weights blob whose content no longer matches its name is refused.
    blob = next(p for p in (repo / "blobs").iterdir() if p.resolve().name == "model.safetensors")
    wrong = repo / "blobs" / ("f" * 64)
    blob.rename(wrong)
    link = repo / "snapshots" / ("0" * 40) / "model.safetensors"
    link.unlink()
    link.symlink_to(wrong)
    with pytest.raises(ApplicationError, match="differs from the Hugging Face cache"):
        service.bertscore_config_resolve()


def test_a_device_that_does_not_exist_is_a_clear_error():
    config = service.bertscore_config_resolve(model="default", device="nonsense")
    with pytest.raises(ApplicationError, match="ELMTEX_BERTSCORE_DEVICE"):
        service.bertscore_pairs_score(pairs=PAIRS[:1], config=config)
