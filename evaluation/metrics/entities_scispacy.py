"""The paper's entity matcher (``--matcher scispacy``): scispaCy NER + UMLS linker, entities
reduced to sets of concept ids (CUIs), compared per document (ELMTEX_REFERENCE.md).

- A value of ``N/A`` (or blank) is the empty set; otherwise the whole value is run through
  the spaCy pipeline; each recognised entity contributes its linked CUI (the linker's
  top-ranked candidate, ``ent._.kb_ents[0]``); entities the linker leaves unlinked are
  dropped (only concept ids are compared).
- Per document: P = |pred ∩ gold| / |pred| (0 when pred is empty), R = |pred ∩ gold| /
  |gold| (0 when gold is empty), F1 their harmonic mean (``entities.prf``).

scispaCy and its models (``en_core_sci_scibert`` by default) and the UMLS knowledge base
are not installed with the platform: :func:`scispacy_unavailable` says why the matcher
cannot run, without importing spaCy. Tests build the matcher from a blank spaCy pipeline
and a stand-in linker (``linker=`` a mapping of entity text to CUI, or a callable taking
a span and returning CUIs). Pure: no Django; spaCy imported only when the matcher is made.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from evaluation.metrics.entities import NA, EntityScore, prf

DEFAULT_MODEL = "en_core_sci_scibert"
LINKER_NAME = "umls"
CACHE_MAX_VALUES = 200_000


class MatcherUnavailable(ValueError):
    """The matcher cannot run here; the message says what to install."""


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def scispacy_unavailable(model: str = DEFAULT_MODEL) -> str | None:
    """Why ``--matcher scispacy`` cannot run (None when it can be tried). Cheap: looks for
    the packages without importing them."""
    if importlib.util.find_spec("scispacy") is None:
        return (
            "the scispacy matcher needs the scispacy package and a scispaCy model, which are not installed; "
            f"install them (pip install scispacy, then the {model} model from the scispaCy releases) "
            "or use --matcher default"
        )
    if not Path(model).exists() and importlib.util.find_spec(model) is None:
        return (
            f"the scispaCy model {model!r} is not installed (neither a package nor a path); install it from "
            "the scispaCy releases, name an installed one with --scispacy-model, or use --matcher default"
        )
    return None


def _top_cui(span) -> list[str]:
    """scispaCy's linker: the best-ranked candidate of the entity, if any."""
    candidates = span._.kb_ents
    return [candidates[0][0]] if candidates else []


def _linker_callable(linker) -> Callable:
    if linker is None:
        return _top_cui
    if isinstance(linker, Mapping):

        def lookup(span) -> list[str]:
            cui = linker.get(span.text) or linker.get(span.text.lower())
            return [cui] if cui else []

        return lookup
    return linker


def _load_pipeline(model: str):
    reason = scispacy_unavailable(model)
    if reason:
        raise MatcherUnavailable(reason)
    import spacy

    try:
        nlp = spacy.load(model)
        import scispacy.abbreviation  # noqa: F401 - registers the pipes
        import scispacy.linking  # noqa: F401

        nlp.add_pipe("abbreviation_detector")
        nlp.add_pipe("scispacy_linker", config={"resolve_abbreviations": True, "linker_name": LINKER_NAME})
    except Exception as exc:  # noqa: BLE001 - spaCy/scispaCy raise many types (missing KB download, ...)
        raise MatcherUnavailable(
            f"the scispaCy pipeline {model!r} with the UMLS linker could not be loaded ({type(exc).__name__}); "
            "check the scispaCy installation and that the UMLS knowledge base files are available offline, "
            "or use --matcher default"
        ) from exc
    return nlp


class ScispacyMatcher:
    """Sets of linked concept ids compared per document (see the module docstring)."""

    name = "scispacy"

    def __init__(self, *, model: str = DEFAULT_MODEL, nlp=None, linker=None, threshold: float | None = None):
        # ``threshold`` is the default matcher's; accepted so matchers are made alike, unused.
        self.model = model if nlp is None else (getattr(nlp, "meta", {}) or {}).get("name", "custom")
        self.nlp = nlp if nlp is not None else _load_pipeline(model)
        self.custom_linker = linker is not None
        self._link = _linker_callable(linker)
        self._cuis: dict[str, frozenset[str]] = {}

    def concepts(self, value: str) -> frozenset[str]:
        """The CUIs of a value's linked entities (empty for N/A)."""
        hit = self._cuis.get(value)
        if hit is not None:
            return hit
        if value is None or value.strip() in ("", NA):
            cuis: frozenset[str] = frozenset()
        else:
            cuis = frozenset(cui for ent in self.nlp(value).ents for cui in self._link(ent))
        if len(self._cuis) >= CACHE_MAX_VALUES:
            self._cuis.clear()
        self._cuis[value] = cuis
        return cuis

    def score(self, prediction: str, gold: str) -> EntityScore:
        pred, ref = self.concepts(prediction), self.concepts(gold)
        return prf(len(pred & ref), len(pred), len(ref))

    def config(self) -> dict:
        meta = getattr(self.nlp, "meta", {}) or {}
        return {
            "matcher": self.name,
            "model": self.model,
            "model_version": meta.get("version"),
            "linker": "custom (given to the matcher)" if self.custom_linker else f"scispacy {LINKER_NAME}",
            "concepts": "each entity's top-ranked linked CUI; unlinked entities dropped; N/A is the empty set",
            "matching": "sets of CUIs: P = |common|/|pred| (0 if pred empty), R = |common|/|gold| (0 if gold empty)",
            "scispacy": _version("scispacy"),
            "spacy": _version("spacy"),
        }
