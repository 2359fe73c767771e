"""A per-machine cache of text embeddings, so the example pool of an advanced run is
embedded once per model, not once per run (a 48,000-report pool takes ~40 minutes on a
2-core CPU). One SQLite file per model under ``ELMTEX_EMBEDDING_CACHE_DIR`` (default
``var/cache/embeddings``; empty turns it off), keyed by the SHA-256 of each text. Stdlib
only; several worker processes may share a file (WAL, short transactions)."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path

logger = logging.getLogger(__name__)

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".onnx")


def cache_dir() -> Path | None:
    from django.conf import settings

    value = getattr(settings, "ELMTEX_EMBEDDING_CACHE_DIR", None)
    return Path(value) if value else None


def model_key(model_path: str, *, max_tokens: int) -> str:
    """The model folder's identity: its resolved path, and the size and modification time
    of each weight file (a replaced model gets a new cache), plus the truncation length."""
    folder = Path(model_path).resolve()
    parts = [str(folder), str(max_tokens)]
    for file in sorted(folder.rglob("*")):
        if file.suffix in WEIGHT_SUFFIXES and file.is_file():
            stat = file.stat()
            parts.append(f"{file.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    def __init__(self, path: Path, dim: int):
        self.dim = dim
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")

    def get_many(self, keys: list[bytes]) -> dict[bytes, bytes]:
        found: dict[bytes, bytes] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk)  # noqa: S608
            found.update((bytes(k), bytes(v)) for k, v in rows)
        return found

    def put_many(self, items: list[tuple[bytes, bytes]]) -> None:
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO vectors (key, vector) VALUES (?, ?)", items)

    def close(self) -> None:
        self._db.close()


def cache_open(model_path: str, *, max_tokens: int, dim: int) -> EmbeddingCache | None:
    """The cache for this model, or None when turned off or not writable (then every text
    is embedded, as without a cache)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        return EmbeddingCache(folder / f"{model_key(model_path, max_tokens=max_tokens)}.sqlite3", dim)
    except (OSError, sqlite3.Error) as exc:
        logger.warning("embedding cache unavailable (%s); embedding without it", type(exc).__name__)
        return None
