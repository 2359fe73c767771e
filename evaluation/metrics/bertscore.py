"""BERTScore P/R/F1 with the ``bert-score`` package's own machinery, Django-free.

Why not ``bert_score.score`` itself (it is the reference the tests compare with, 1e-6):

- it crashes on an empty string under transformers 5.x (``sent_encode`` calls a
  tokenizer method that no longer exists); a pair with an empty (or blank) side gets
  bert-score's documented raw value instead, ``EMPTY_RAW`` = (0, 0, 0) — what bert-score
  itself returns for it under transformers 4 ("setting raw BERTScores to 0") — and is
  then rescaled like every other pair when rescaling applies;
- it picks the model class from the *path* (any path containing ``t5`` is loaded as
  T5); here the class comes from the model's ``config.json``;
- it embeds every string of every call and keeps all embeddings of a call in memory;
  here the pairs are scored in chunks, each distinct string embedded once (strings used
  again in a later chunk are carried over within a memory budget);
- ``rescale_with_baseline`` silently does nothing for a model without a baseline file;
  here the baseline is read by the caller (:func:`baseline_read`) and passed in, so
  whether rescaling applied is known and recorded.

The numerics are bert-score's: its ``sent_encode``, ``padding``, ``bert_encode`` and
``greedy_cos_idf`` with ``idf=False`` weights ([CLS]/[SEP] 0, others 1), float32.
Heavy imports (torch, transformers, bert_score) happen inside the functions.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EMPTY_RAW = (0.0, 0.0, 0.0)  # raw P, R, F1 of a pair with an empty or blank side (bert-score's value)
CHUNK_PAIRS = 2048  # distinct pairs embedded and matched per chunk (bounds memory)
CARRY_BUDGET_BYTES = 512 * 1024 * 1024  # embeddings of strings reused by a later chunk
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".h5", ".msgpack")
TOKENIZER_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "spm.model",
    "sentencepiece.bpe.model",
    "added_tokens.json",
)

Triple = tuple[float, float, float]


class ModelFilesError(Exception):
    """The model's files are missing or do not match their recorded SHA-256."""


def is_empty(text: str) -> bool:
    """bert-score strips every string; a blank one has no tokens to match."""
    return not text.strip()


# --- file hashes --------------------------------------------------------------------------


def record_sha256(record_path: Path, *, prefix: str) -> dict[str, str]:
    """``{path relative to prefix: hex sha256}`` of the files under ``prefix`` in a wheel's
    RECORD (``path,sha256=<urlsafe base64, no padding>,size``)."""
    expected = {}
    for line in record_path.read_text(encoding="utf-8").splitlines():
        name, _, rest = line.partition(",")
        digest = rest.split(",", 1)[0]
        if not name.startswith(prefix) or not digest.startswith("sha256="):
            continue
        raw = digest[len("sha256=") :]
        expected[name[len(prefix) :]] = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).hex()
    return expected


_HASH_MEMO: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, memoised per process by (real path, size, mtime)."""
    real = os.path.realpath(path)
    stat = os.stat(real)
    key = (real, stat.st_size, stat.st_mtime_ns)
    if key not in _HASH_MEMO:
        digest = hashlib.sha256()
        with open(real, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _HASH_MEMO[key] = digest.hexdigest()
    return _HASH_MEMO[key]


def files_verify(*, model_dir: Path, expected: dict[str, str]) -> dict[str, str]:
    """Check every expected file's SHA-256; return them. Raises :class:`ModelFilesError`
    naming the files that are missing or differ."""
    bad = []
    for name, digest in sorted(expected.items()):
        path = model_dir / name
        if not path.is_file():
            bad.append(f"{name} (missing)")
        elif file_sha256(path) != digest:
            bad.append(f"{name} (SHA-256 differs)")
    if bad:
        raise ModelFilesError(", ".join(bad))
    return dict(expected)


def scoring_file(name: str) -> bool:
    """Whether a model file decides the scores (weights, config, tokenizer)."""
    return name.endswith(WEIGHT_SUFFIXES) or name.rsplit("/", 1)[-1] in TOKENIZER_FILES


def _cache_blob(path: Path) -> str | None:
    """The ``blobs/<sha256>`` name a Hugging Face cache snapshot file links to, if any."""
    for _ in range(8):
        if not path.is_symlink():
            return None
        path = Path(os.path.normpath(path.parent / os.readlink(path)))
        if path.parent.name == "blobs" and len(path.name) == 64:
            return path.name
    return None


def model_files_hash(*, model_dir: Path) -> dict[str, str]:
    """SHA-256 of the files that decide a model's scores (weights, config, tokenizer) of a
    model directory without a manifest. A file in a Hugging Face cache snapshot links to
    ``blobs/<sha256>`` for weights; the computed hash must equal that name."""
    hashes = {}
    found = [Path(root) / f for root, _, files in os.walk(model_dir, followlinks=True) for f in files]
    for path in sorted(found):
        name = path.relative_to(model_dir).as_posix()
        if not scoring_file(name):
            continue
        digest = file_sha256(path)
        blob = _cache_blob(path)
        if blob is not None and name.endswith(WEIGHT_SUFFIXES) and blob != digest:
            raise ModelFilesError(f"{name} (SHA-256 differs from the Hugging Face cache's record)")
        hashes[name] = digest
    if not any(name.endswith(WEIGHT_SUFFIXES) for name in hashes):
        raise ModelFilesError("no weights file (*.safetensors, *.bin) found")
    return hashes


def combined_hash(hashes: dict[str, str]) -> str:
    """One hex SHA-256 over ``name sha256`` lines in name order."""
    text = "".join(f"{name} {digest}\n" for name, digest in sorted(hashes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


# --- model ----------------------------------------------------------------------------------


@dataclass
class Scorer:
    """A loaded model + tokenizer on a device, layers cut to ``num_layers``."""

    model: Any
    tokenizer: Any
    device: str
    num_layers: int

    def idf_weights(self, ids: Sequence[int]) -> list[float]:
        # bert-score with idf=False: defaultdict(1.0) with [SEP] and [CLS] set to 0.
        special = {self.tokenizer.sep_token_id, self.tokenizer.cls_token_id}
        return [0.0 if token in special else 1.0 for token in ids]


def device_choose(requested: str | None = None) -> str:
    """``requested`` (e.g. ``cpu``, ``cuda``, ``cuda:1``) or cuda when available, else cpu."""
    if requested:
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def layers_keep(model: Any, num_layers: int) -> Any:
    """bert-score's ``get_model`` layer cut (same branches), on a model already loaded."""
    import torch

    if hasattr(model, "decoder") and hasattr(model, "encoder"):
        model = model.encoder

    def cut(layers, what: str):
        if not 0 <= num_layers <= len(layers):
            raise ValueError(f"num_layers must be between 0 and {len(layers)} for this model ({what})")
        return torch.nn.ModuleList(list(layers[:num_layers]))

    if hasattr(model, "n_layers"):  # xlm
        if not 0 <= num_layers <= model.n_layers:
            raise ValueError(f"num_layers must be between 0 and {model.n_layers} for this model")
        model.n_layers = num_layers
    elif hasattr(model, "layer"):  # xlnet
        model.layer = cut(model.layer, "layer")
    elif hasattr(model, "encoder"):
        encoder = model.encoder
        if hasattr(encoder, "albert_layer_groups"):
            if not 0 <= num_layers <= encoder.config.num_hidden_layers:
                raise ValueError(f"num_layers must be between 0 and {encoder.config.num_hidden_layers}")
            encoder.config.num_hidden_layers = num_layers
        elif hasattr(encoder, "block"):  # t5
            encoder.block = cut(encoder.block, "encoder.block")
        else:  # bert, roberta, deberta
            encoder.layer = cut(encoder.layer, "encoder.layer")
    elif hasattr(model, "transformer"):  # distilbert
        model.transformer.layer = cut(model.transformer.layer, "transformer.layer")
    elif hasattr(model, "layers"):  # bart
        model.layers = cut(model.layers, "layers")
    else:
        raise ValueError("this model architecture is not supported by bert-score")
    return model


_SCORERS: dict[tuple[str, int, str], Scorer] = {}


def scorer_load(*, model_dir: str, num_layers: int, device: str) -> Scorer:
    """Load (once per process) a model directory's tokenizer and model, offline.

    The class comes from ``config.json`` (T5 family -> ``T5EncoderModel``, else
    ``AutoModel``), never from the path's name, so a path containing ``t5`` loads what
    it holds. The tokenizer is bert-score's (``get_tokenizer``, slow-tokenizer default).
    """
    key = (os.path.realpath(model_dir), num_layers, device)
    if key in _SCORERS:
        return _SCORERS[key]
    # local_files_only, not HF_HUB_OFFLINE: that would also make huggingface_hub refuse the
    # TGI endpoints this worker process talks to (see inference/client.py).
    import transformers
    from bert_score.utils import get_tokenizer

    transformers.utils.logging.disable_progress_bar()
    config = transformers.AutoConfig.from_pretrained(model_dir, local_files_only=True)
    if config.model_type in ("t5", "mt5", "umt5"):
        model = transformers.T5EncoderModel.from_pretrained(model_dir, local_files_only=True)
    else:
        model = transformers.AutoModel.from_pretrained(model_dir, local_files_only=True)
    model.eval()
    model = layers_keep(model, num_layers)
    model.to(device)
    tokenizer = get_tokenizer(model_dir, False)
    _SCORERS.clear()  # one model per process: a worker switching models frees the old one
    _SCORERS[key] = Scorer(model=model, tokenizer=tokenizer, device=device, num_layers=num_layers)
    return _SCORERS[key]


def baseline_read(path: Path, num_layers: int) -> Triple:
    """The (P, R, F) baseline of layer ``num_layers`` of a bert-score baseline file
    (CSV ``LAYER,P,R,F``; row ``num_layers``, read exactly as bert-score reads it)."""
    import numpy as np
    import pandas as pd

    # bert-score: torch.from_numpy(pd.read_csv(path).iloc[num_layers].to_numpy())[1:].float()
    values = pd.read_csv(path).iloc[num_layers].to_numpy()[1:].astype(np.float64).astype(np.float32)
    return tuple(float(v) for v in values)


# --- scoring --------------------------------------------------------------------------------


def _embed(scorer: Scorer, strings: list[str], batch_size: int) -> dict[str, tuple[Any, Any]]:
    """Per string: (token embeddings [T, d], idf weights [T]) on the CPU, like
    bert-score's ``bert_cos_score_idf`` stats (longest first, batches of ``batch_size``)."""
    import torch
    from bert_score.utils import bert_encode, padding, sent_encode

    ids = [sent_encode(scorer.tokenizer, text) for text in strings]
    order = sorted(range(len(strings)), key=lambda i: len(ids[i]), reverse=True)
    stats = {}
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        padded, lens, mask = padding([ids[i] for i in batch], scorer.tokenizer.pad_token_id, dtype=torch.long)
        emb = bert_encode(scorer.model, padded.to(scorer.device), attention_mask=mask.to(scorer.device)).cpu()
        for row, i in enumerate(batch):
            length = int(lens[row])
            idf = torch.tensor(scorer.idf_weights(ids[i]), dtype=torch.float)
            stats[strings[i]] = (emb[row, :length].clone(), idf)
    return stats


def _pad_stats(texts: list[str], stats: dict, device: str):
    """bert-score's ``pad_batch_stats``: padded embeddings (pad 2.0), mask, idf."""
    import torch
    from torch.nn.utils.rnn import pad_sequence

    embs = [stats[t][0].to(device) for t in texts]
    idfs = [stats[t][1].to(device) for t in texts]
    lens = torch.tensor([e.size(0) for e in embs], dtype=torch.long)
    mask = (torch.arange(int(lens.max())).expand(len(lens), -1) < lens.unsqueeze(1)).to(device)
    return pad_sequence(embs, batch_first=True, padding_value=2.0), mask, pad_sequence(idfs, batch_first=True)


def _match(scorer: Scorer, pairs: list[tuple[str, str]], stats: dict, batch_size: int):
    """Raw (P, R, F) float32 tensor [n, 3] of non-empty pairs (prediction, reference)."""
    import torch
    from bert_score.utils import greedy_cos_idf

    out = []
    with torch.no_grad():
        for start in range(0, len(pairs), batch_size):
            batch = pairs[start : start + batch_size]
            refs = _pad_stats([ref for _, ref in batch], stats, scorer.device)
            hyps = _pad_stats([pred for pred, _ in batch], stats, scorer.device)
            p, r, f = greedy_cos_idf(*refs, *hyps, False)
            out.append(torch.stack((p, r, f), dim=-1).cpu())
    return torch.cat(out, dim=0) if out else torch.zeros((0, 3))


def pairs_score_chunks(
    scorer: Scorer,
    pairs: Sequence[tuple[str, str]],
    *,
    batch_size: int = 64,
    baseline: Triple | None = None,
    chunk_pairs: int = CHUNK_PAIRS,
    carry_budget_bytes: int = CARRY_BUDGET_BYTES,
) -> Iterator[tuple[int, list[Triple]]]:
    """Score (prediction, reference) pairs chunk by chunk: yields ``(start, scores)`` with
    the (P, R, F1) of ``pairs[start:start + len(scores)]``, in order.

    Each distinct non-empty string is embedded once; a string needed again by a later
    chunk keeps its embedding until its last use (within ``carry_budget_bytes``; beyond
    that it is embedded again, same numbers). ``baseline`` = bert-score rescaling
    ``(x - b) / (1 - b)``, float32 as bert-score does it.
    """
    import torch

    remaining = Counter(text for pair in pairs for text in pair if not is_empty(text))
    carry: dict[str, tuple[Any, Any]] = {}
    base = torch.tensor(baseline, dtype=torch.float) if baseline is not None else None
    for start in range(0, len(pairs), chunk_pairs):
        chunk = list(pairs[start : start + chunk_pairs])
        full = [i for i, (pred, ref) in enumerate(chunk) if not is_empty(pred) and not is_empty(ref)]
        needed = list(dict.fromkeys(text for i in full for text in chunk[i]))
        stats = {text: carry[text] for text in needed if text in carry}
        stats.update(_embed(scorer, [text for text in needed if text not in carry], batch_size))
        raw = torch.zeros((len(chunk), 3), dtype=torch.float)
        if full:
            raw[full] = _match(scorer, [chunk[i] for i in full], stats, batch_size)
        if base is not None:
            raw = (raw - base) / (1 - base)
        yield start, [tuple(row) for row in raw.tolist()]
        # Keep what a later chunk needs; forget the rest.
        for pair in chunk:
            for text in pair:
                if not is_empty(text):
                    remaining[text] -= 1
        carry = {t: s for t, s in (carry | stats).items() if remaining[t] > 0}
        size = 0
        for text in list(carry):
            size += carry[text][0].numel() * 4
            if size > carry_budget_bytes:
                del carry[text]


def pairs_score(
    scorer: Scorer,
    pairs: Sequence[tuple[str, str]],
    *,
    batch_size: int = 64,
    baseline: Triple | None = None,
    progress: Callable[[int, int], object] | None = None,
    chunk_pairs: int = CHUNK_PAIRS,
) -> list[Triple]:
    """All (P, R, F1) of ``pairs`` (prediction, reference), in order; see
    :func:`pairs_score_chunks`."""
    scores: list[Triple] = []
    for _, chunk in pairs_score_chunks(
        scorer, pairs, batch_size=batch_size, baseline=baseline, chunk_pairs=chunk_pairs
    ):
        scores.extend(chunk)
        if progress is not None:
            progress(len(scores), len(pairs))
    return scores
