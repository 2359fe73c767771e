"""Building documents, gold and candidates for evaluation tests."""

from annotation.schema import ELMTEX_CATEGORIES, ELMTEX_KEYS, NA
from tests.factories import CandidateFactory, DocumentFactory, GoldFactory

TEXT_KEYS = [c.key for c in ELMTEX_CATEGORIES if c.text_metrics]
ENTITY_KEYS = [c.key for c in ELMTEX_CATEGORIES if c.entity_metrics]


def values(**given) -> dict:
    """A full ELMTEX object: the given keys, N/A elsewhere."""
    return {key: NA for key in ELMTEX_KEYS} | given


def add_document(project, *, gold: dict | None = None, language="en", split="test", external_id=None):
    kwargs = {"project": project, "language": language, "split": split}
    if external_id is not None:
        kwargs["external_id"] = external_id
    document = DocumentFactory(**kwargs)
    if gold is not None:
        GoldFactory(document=document, values=values(**gold))
    return document


def add_candidate(run, document, *, status="ok", **given):
    return CandidateFactory(
        run=run, document=document, status=status, values=values(**given) if status == "ok" else None
    )
