"""Small helpers the annotation and review pages share: field colours, value display and
automated-check findings (helper H's selector, used when it is there)."""

from __future__ import annotations

import json

# Highlight colours for evidence spans, one per field: light enough for black text on top
# (contrast >= 7:1), hues spread by the golden angle so neighbouring fields differ.
GOLDEN_ANGLE = 137.508


def field_color(index: int) -> str:
    hue = round((index * GOLDEN_ANGLE + 50) % 360)
    return f"hsl({hue} 85% 82%)"


def value_text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _by_target_id(found: dict, target: str, target_id) -> dict:
    per_target = found.get(target) or {}
    return per_target.get(target_id) or per_target.get(str(target_id)) or {}


def checks_for(*, document, targets: tuple, annotation_ids: list[int] | None = None) -> dict:
    """``checks_for_document`` when helper H's selector exists, else nothing found."""
    try:
        from .selectors_checks import checks_for_document
    except ImportError:  # the checks module is optional for these pages
        return {}
    return checks_for_document(document=document, targets=targets, annotation_ids=annotation_ids) or {}


def findings_for_annotation(*, document, annotation) -> dict:
    """``{category key: [finding]}`` on this annotation only (annotators see findings on
    their own work, never on gold or on other annotators' work)."""
    if annotation is None or annotation.pk is None:
        return {}
    found = checks_for(document=document, targets=("annotation",), annotation_ids=[annotation.pk])
    return _by_target_id(found, "annotation", annotation.pk)


def findings_by_target(found: dict, target: str, target_id) -> dict:
    return _by_target_id(found, target, target_id)
