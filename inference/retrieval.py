"""Nearest training documents for in-context examples (advanced strategy; no Django).

An :class:`ExampleIndex` is built once per run over the example pool (the caller passes
only training-split documents with gold) with one of two methods:

- ``embeddings``: sentence embeddings (:mod:`inference.embeddings`), cosine by a dot
  product of normalised vectors in numpy (exact search; 48,000 pool documents x 384
  dimensions is 74 MB, searched in query chunks);
- ``tfidf``: scikit-learn's TF-IDF (sublinear tf, L2 norm), cosine likewise; the
  fallback when no embedding model is installed.

Every query names the pool documents it must never get (itself, its translations, the
document it translates). Documents in the query's language rank before any other
(``LANGUAGE_BONUS`` exceeds every cosine), so another language only fills up when its
own language has fewer than k. numpy/sklearn are imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

METHODS = ("embeddings", "tfidf")
LANGUAGE_BONUS = 4.0  # above any cosine difference (cosines lie in [-1, 1])
QUERY_CHUNK = 256


@dataclass(frozen=True)
class PoolDocument:
    doc_id: int
    language: str
    text: str


@dataclass(frozen=True)
class Query:
    doc_id: int
    language: str
    text: str
    exclude: frozenset[int] = field(default_factory=frozenset)


class ExampleIndex:
    """Vectors of the pool, built once; :meth:`search` ranks pool documents per query."""

    def __init__(self, *, pool: Sequence[PoolDocument], method: str, model_path: str | None = None):
        import numpy as np

        if method not in METHODS:
            raise ValueError(f"unknown retrieval method {method!r}; expected one of {', '.join(METHODS)}")
        if method == "embeddings" and not model_path:
            raise ValueError("embedding retrieval needs a model path")
        self.method = method
        self.model_path = model_path
        self.pool = list(pool)
        self.ids = np.array([d.doc_id for d in self.pool], dtype=np.int64)
        self.languages = np.array([d.language for d in self.pool], dtype=object)
        self._position = {d.doc_id: i for i, d in enumerate(self.pool)}
        texts = [d.text for d in self.pool]
        if method == "embeddings":
            from .embeddings import texts_embed

            self._vectorizer = None
            self._matrix = texts_embed(texts, path=model_path)
        else:
            from sklearn.feature_extraction.text import TfidfVectorizer

            self._vectorizer = TfidfVectorizer(sublinear_tf=True, strip_accents="unicode")
            try:
                self._matrix = self._vectorizer.fit_transform(texts)
            except ValueError:  # no words at all in the pool (empty texts)
                self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4))
                self._matrix = self._vectorizer.fit_transform([t or " " for t in texts])

    def __len__(self) -> int:
        return len(self.pool)

    def _vectors(self, texts: list[str]):
        if self.method == "embeddings":
            from .embeddings import texts_embed

            return texts_embed(texts, path=self.model_path)
        return self._vectorizer.transform(texts)

    def _scores(self, queries: Sequence[Query]):
        """Cosine of every query with every pool document, dense (queries x pool)."""
        import numpy as np

        vectors = self._vectors([q.text for q in queries])
        scores = vectors @ self._matrix.T
        if hasattr(scores, "toarray"):
            scores = scores.toarray()
        return np.asarray(scores, dtype=np.float64)

    def search(self, queries: Sequence[Query], *, k: int) -> list[list[int]]:
        """For each query, up to ``k`` pool document ids, most similar first; a query's
        excluded documents never appear."""
        import numpy as np

        if k < 1:
            raise ValueError("k must be at least 1")
        results: list[list[int]] = []
        if not self.pool:
            return [[] for _ in queries]
        for start in range(0, len(queries), QUERY_CHUNK):
            chunk = list(queries[start : start + QUERY_CHUNK])
            scores = self._scores(chunk)
            for row, query in zip(scores, chunk, strict=True):
                row = row + np.where(self.languages == query.language, LANGUAGE_BONUS, 0.0)
                for doc_id in query.exclude | {query.doc_id}:
                    position = self._position.get(doc_id)
                    if position is not None:
                        row[position] = -np.inf
                take = min(k, len(row))
                top = np.argpartition(-row, take - 1)[:take] if take < len(row) else np.arange(len(row))
                # Best first; equal scores by pool order, so the same inputs give the same list.
                top = sorted(top.tolist(), key=lambda i: (-row[i], i))
                results.append([int(self.ids[i]) for i in top if np.isfinite(row[i])][:k])
        return results
