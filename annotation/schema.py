"""The ELMTEX category schema (pure; no Django).

Keys and metric flags follow ELMTEX_REFERENCE.md; the guideline texts are ours. They are
shown to annotators and used in prompts, so they say what goes in, what stays out, and
how several items are written.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

NA = "N/A"
ITEM_SEPARATOR = "; "
MAX_LABEL_CHARS = 200  # Category.label's max_length

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Record fields and CSV columns of import_dataset (CLI.md); a category cannot share a name.
RESERVED_KEYS = ("patient_id", "report", "summary", "language", "split")


@dataclass(frozen=True)
class CategorySpec:
    key: str
    label: str
    guideline: str
    text_metrics: bool = True
    entity_metrics: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


ELMTEX_CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "life_style",
        "Life style",
        "Habits that shape health: smoking (with pack-years if given), alcohol, "
        "recreational exercise, diet, occupation and living situation. Write each habit "
        "as a short phrase; separate several with '; '. N/A if the report says nothing.",
    ),
    CategorySpec(
        "family_history",
        "Family history",
        "Conditions or genetic disorders in blood relatives, with the relative named "
        "(e.g. 'mother: breast cancer'). Not the patient's own history. N/A if absent.",
    ),
    CategorySpec(
        "social_history",
        "Social history",
        "Marital status, social support, substance use beyond ordinary habits, housing "
        "and travel relevant to the case. N/A if absent.",
    ),
    CategorySpec(
        "medical_surgical_history",
        "Medical and surgical history",
        "Past conditions, chronic diseases, earlier operations and hospital stays before "
        "the current presentation, with years when given. Not the current illness.",
    ),
    CategorySpec(
        "signs_symptoms",
        "Signs and symptoms",
        "Current complaints and examination findings with their duration and severity "
        "(e.g. 'fever for 3 days; productive cough'). One item per sign or symptom.",
        entity_metrics=True,
    ),
    CategorySpec(
        "comorbidities",
        "Comorbidities",
        "Other conditions present at the same time as the main diagnosis (e.g. diabetes "
        "mellitus type 2; hypertension). Not the main diagnosis itself.",
        entity_metrics=True,
    ),
    CategorySpec(
        "diagnostic_techniques_procedures",
        "Diagnostic techniques and procedures",
        "Tests and procedures used to reach the diagnosis: imaging, endoscopy, biopsy, "
        "ECG, cultures, with the finding in brief when stated. Lab values go to "
        "laboratory values.",
        entity_metrics=True,
    ),
    CategorySpec(
        "diagnosis",
        "Diagnosis",
        "The primary diagnosis first, then secondary and differential diagnoses as "
        "named in the report. Use the report's terms.",
        entity_metrics=True,
    ),
    CategorySpec(
        "laboratory_values",
        "Laboratory values",
        "Laboratory results with value and unit (e.g. 'CRP 85 mg/L; hemoglobin 9.8 "
        "g/dL'). Qualitative results only when no value is given.",
    ),
    CategorySpec(
        "pathology",
        "Pathology",
        "Findings of biopsy, histopathology, cytology or autopsy (e.g. 'non-caseating "
        "granulomas'). The procedure itself goes to diagnostic techniques.",
        entity_metrics=True,
    ),
    CategorySpec(
        "pharmacological_therapy",
        "Pharmacological therapy",
        "Drugs given for the current illness with dose, route, frequency and duration "
        "when stated (e.g. 'amoxicillin 500 mg three times daily for 7 days').",
        entity_metrics=True,
    ),
    CategorySpec(
        "interventional_therapy",
        "Interventional therapy",
        "Surgical and non-surgical interventions (operations, drainage, stenting, "
        "radiotherapy, dialysis) and their immediate outcome.",
        entity_metrics=True,
    ),
    CategorySpec(
        "patient_outcome_assessment",
        "Patient outcome assessment",
        "The patient's status at the end of the report: recovery, function, "
        "complications, death, and the follow-up plan.",
        entity_metrics=True,
    ),
    CategorySpec(
        "age",
        "Age",
        "Age at the time of the report as written (e.g. '45 years'). N/A if not stated.",
        text_metrics=False,
    ),
    CategorySpec(
        "gender",
        "Gender",
        "Gender as stated in the report (e.g. 'female', 'male'). N/A if not stated.",
        text_metrics=False,
    ),
)

ELMTEX_KEYS: tuple[str, ...] = tuple(c.key for c in ELMTEX_CATEGORIES)


class SchemaFileError(ValueError):
    """A schema file is unreadable or malformed; ``args[0]`` says where and why."""


def load_schema_file(path: str) -> list[CategorySpec]:
    """Read a schema file: a JSON list of ``{key, label, guideline, text_metrics,
    entity_metrics}`` objects. Raises :class:`SchemaFileError` naming the entry and field."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise SchemaFileError(f"cannot read the schema file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SchemaFileError(f"not valid UTF-8 at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise SchemaFileError(f"line {exc.lineno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise SchemaFileError("invalid schema: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise SchemaFileError(f"invalid JSON: {str(exc).split(';')[0]}") from None
    return parse_schema(data)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_schema(data) -> list[CategorySpec]:
    if not isinstance(data, list) or not data:
        raise SchemaFileError("expected a non-empty JSON list of categories")
    specs: list[CategorySpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(data, start=1):
        where = f"category {i}"
        if not isinstance(entry, dict):
            raise SchemaFileError(f"{where}: expected an object")
        unknown = set(entry) - {"key", "label", "guideline", "text_metrics", "entity_metrics"}
        if unknown:
            raise SchemaFileError(f"{where}: unknown field(s): {', '.join(sorted(unknown))}")
        key = entry.get("key")
        if not isinstance(key, str) or not KEY_RE.match(key):
            raise SchemaFileError(
                f"{where}: key: expected lowercase letters, digits and '_' starting with a letter, got {key!r}"
            )
        if key in RESERVED_KEYS:
            raise SchemaFileError(
                f"{where}: key: {key!r} is reserved for the record itself "
                f"({', '.join(RESERVED_KEYS)}); choose another key"
            )
        if key in seen:
            raise SchemaFileError(f"{where}: key: duplicate key {key!r}")
        seen.add(key)
        label = entry.get("label", key.replace("_", " ").capitalize())
        guideline = entry.get("guideline", "")
        for name, value in (("label", label), ("guideline", guideline)):
            if not isinstance(value, str):
                raise SchemaFileError(f"{where}: {name}: expected a string")
            if "\x00" in value or not _encodable(value):
                raise SchemaFileError(f"{where}: {name}: holds a NUL character or a lone surrogate; remove it")
        if len(label.strip()) > MAX_LABEL_CHARS:
            raise SchemaFileError(f"{where}: label: longer than {MAX_LABEL_CHARS} characters")
        flags = {}
        for name, default in (("text_metrics", True), ("entity_metrics", False)):
            value = entry.get(name, default)
            if not isinstance(value, bool):
                raise SchemaFileError(f"{where}: {name}: expected true or false")
            flags[name] = value
        specs.append(CategorySpec(key, label.strip() or key, guideline, **flags))
    return specs
