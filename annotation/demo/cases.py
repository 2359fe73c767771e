"""Drawing one case from a scenario: the facts that both language versions describe (pure).

A :class:`Case` holds every fact as a :class:`~annotation.demo.vocab.Bi`, so the English
and the German report and their gold summaries say the same things. What the report
does not mention is simply absent from the case, which makes its category ``N/A``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..schema import ELMTEX_KEYS, ITEM_SEPARATOR, NA
from . import vocab
from .vocab import Bi, Person, Scenario, pick, realise

# Chances that a category is stated at all (the rest are per scenario, see Scenario.p_*).
P_AGE_STATED = 0.94
P_GENDER_STATED = 0.94
P_TESTS = 0.96
P_DIAGNOSIS = 0.96
P_OUTCOME = 0.9
P_EXAM = 0.85
P_INCIDENTAL = 0.25  # of the scenarios that may be found without symptoms
P_SECONDARY = 0.35
P_DIFFERENTIALS = 0.4
P_BACKGROUND = {  # (adult, child)
    "history": (0.7, 0.6),
    "comorbidities": (0.6, 0.3),
    "lifestyle": (0.62, 0.35),
    "social": (0.5, 0.45),
    "family": (0.5, 0.45),
}
BACKGROUND = tuple(P_BACKGROUND)

# How much a report tells: item counts (lo, hi) per part, by level of detail.
DETAIL_WEIGHTS = {"brief": 0.25, "standard": 0.5, "detailed": 0.25}
COUNTS = {
    "brief": {
        "symptoms": (1, 3),
        "exam": (1, 1),
        "tests": (1, 2),
        "labs": (1, 3),
        "pathology": (1, 2),
        "drugs": (1, 1),
        "outcomes": (1, 1),
        "background": (1, 1),
        "discussion": (0, 0),
        "general": (0, 0),
    },
    "standard": {
        "symptoms": (2, 4),
        "exam": (1, 3),
        "tests": (1, 3),
        "labs": (2, 5),
        "pathology": (1, 3),
        "drugs": (1, 2),
        "outcomes": (1, 2),
        "background": (1, 2),
        "discussion": (0, 1),
        "general": (0, 1),
    },
    "detailed": {
        "symptoms": (4, 6),
        "exam": (2, 4),
        "tests": (3, 6),
        "labs": (4, 7),
        "pathology": (2, 4),
        "drugs": (2, 3),
        "outcomes": (2, 3),
        "background": (2, 3),
        "discussion": (1, 3),
        "general": (2, 4),
    },
}

# Where the patient was seen: English, German "stellte sich ... vor", German "wurde ... aufgenommen".
SETTINGS = (
    ("to the emergency department", "in der Notaufnahme", "über die Notaufnahme"),
    ("to our outpatient clinic", "in unserer Ambulanz", "aus unserer Ambulanz"),
    ("to the hospital", "im Krankenhaus", "stationär"),
    ("to our department", "in unserer Klinik", "in unserer Klinik"),
)


@dataclass
class Layout:
    """How the report is arranged; shared by both languages so they read as translations."""

    background_first: bool  # history etc. before the presenting complaint
    background_order: list[str]
    labs_first: bool
    differentials_first: bool
    merge_symptoms: bool  # English only: symptoms in the opening sentence
    discussion: list[Bi] = field(default_factory=list)
    diagnosis_remark: bool = False  # a closing sentence that names the diagnosis again
    missing_diagnosis_note: bool = False  # say that no diagnosis was documented
    consent: bool = False
    conference: bool = False
    anonymised: bool = False


@dataclass
class Case:
    patient_id: str
    scenario: Scenario
    gender: str
    gender_stated: bool
    age_value: int
    age_unit: str  # "years" | "months"
    age_stated: bool
    stage: str  # "infant" | "toddler" | "child" | "adult"
    setting: int
    incidental: bool
    primary: Bi | None
    secondary: list[Bi]
    differentials: list[Bi]
    biopsy: Bi | None
    facts: dict[str, list[Bi]]
    layout: Layout

    def age_text(self, lang: str) -> str:
        unit = {
            ("en", "years"): "years",
            ("en", "months"): "months",
            ("de", "years"): "Jahre",
            ("de", "months"): "Monate",
        }[lang, self.age_unit]
        return f"{self.age_value} {unit}"

    def gender_text(self, lang: str) -> str:
        if lang == "en":
            return self.gender
        return "männlich" if self.gender == "male" else "weiblich"

    def summary(self, lang: str) -> dict[str, str]:
        """The gold summary in ``lang``: the 15 ELMTEX keys in schema order."""
        f = self.facts
        diagnosis = ([self.primary] if self.primary else []) + self.secondary + self.differentials
        lists = {
            "life_style": f["lifestyle"],
            "family_history": f["family"],
            "social_history": f["social"],
            "medical_surgical_history": f["history"],
            "signs_symptoms": f["symptoms"] + f["exam"],
            "comorbidities": f["comorbidities"],
            "diagnostic_techniques_procedures": f["tests"] + ([self.biopsy] if self.biopsy else []),
            "diagnosis": diagnosis,
            "laboratory_values": f["labs"],
            "pathology": f["pathology"],
            "pharmacological_therapy": f["drugs"],
            "interventional_therapy": f["interventions"],
            "patient_outcome_assessment": f["outcomes"],
        }
        summary = {}
        for key in ELMTEX_KEYS:
            if key == "age":
                summary[key] = self.age_text(lang) if self.age_stated else NA
            elif key == "gender":
                summary[key] = self.gender_text(lang) if self.gender_stated else NA
            else:
                items = [getattr(item, lang) for item in lists[key]]
                summary[key] = ITEM_SEPARATOR.join(items) if items else NA
        return summary


def _stage(age_value: int, unit: str) -> str:
    if unit == "months":
        return "infant" if age_value < 12 else "toddler"
    if age_value < 6:
        return "toddler"
    return "child" if age_value < 18 else "adult"


def _background(
    rng, kind: str, sc: Scenario, person: Person, used: set[str], child: bool, counts: tuple[int, int]
) -> list[Bi]:
    chance = P_BACKGROUND[kind][child] + (0.25 if counts[0] > 1 else 0.0)  # detailed reports tell more
    if rng.random() >= chance:
        return []
    shared = {
        ("history", False): vocab.ADULT_HISTORY,
        ("history", True): vocab.CHILD_HISTORY,
        ("comorbidities", False): vocab.ADULT_COMORBIDITIES,
        ("comorbidities", True): vocab.CHILD_COMORBIDITIES,
        ("lifestyle", False): [list(g) for g in vocab.ADULT_LIFESTYLE_GROUPS],
        ("lifestyle", True): [list(g) for g in vocab.CHILD_LIFESTYLE_GROUPS],
        ("social", False): [list(g) for g in vocab.ADULT_SOCIAL_GROUPS],
        ("social", True): [list(g) for g in vocab.CHILD_SOCIAL_GROUPS],
        ("family", False): vocab.ADULT_FAMILY,
        ("family", True): vocab.CHILD_FAMILY,
    }[kind, child]
    k = rng.randint(*counts)
    items = []
    specific = getattr(sc, kind)
    if specific and rng.random() < 0.6:
        items += pick(rng, specific, 1, person, used)
    items += pick(rng, shared, k - len(items), person, used, exclude=sc.exclude)
    return items


def case_draw(sc: Scenario, rng: random.Random, patient_id: str) -> Case:
    """Draw one case of scenario ``sc``; every choice comes from ``rng``."""
    gender = "male" if rng.random() < sc.male_share else "female"
    if sc.age_months:
        months = rng.randint(*sc.age_months)
        age_value, age_unit = (months, "months") if months < 24 else (months // 12, "years")
        age_years = months // 12
    else:
        age_value = age_years = rng.randint(*sc.age_years)
        age_unit = "years"
    person = Person(gender=gender, age_years=age_years, months=age_unit == "months")
    child = sc.paediatric
    used: set[str] = set()
    detail = rng.choices(list(DETAIL_WEIGHTS), weights=list(DETAIL_WEIGHTS.values()))[0]
    counts = COUNTS[detail]

    def some(pool, part: str, lo: int | None = None) -> list[Bi]:
        low, high = counts[part]
        return pick(rng, pool, rng.randint(low if lo is None else lo, high), person, used)

    incidental = sc.incidental_ok and rng.random() < P_INCIDENTAL
    facts: dict[str, list[Bi]] = {
        kind: _background(rng, kind, sc, person, used, child, counts["background"]) for kind in BACKGROUND
    }
    facts["symptoms"] = [] if incidental else some(sc.symptoms, "symptoms")
    facts["exam"] = some(sc.exam, "exam") if not incidental and rng.random() < P_EXAM else []
    tests_done = rng.random() < P_TESTS
    facts["tests"] = some(sc.tests, "tests") if tests_done else []
    biopsy = None
    facts["pathology"] = []
    if tests_done and sc.biopsy and rng.random() < sc.p_biopsy:
        biopsy = realise(sc.biopsy, rng)
        facts["pathology"] = some(sc.pathology, "pathology")
    facts["labs"] = some(sc.labs, "labs") if rng.random() < sc.p_labs else []
    facts["drugs"] = []
    if rng.random() < sc.p_drugs:
        facts["drugs"] = pick(rng, sc.core_drugs, len(sc.core_drugs), person, used)
        facts["drugs"] += some(sc.drugs, "drugs", lo=0 if facts["drugs"] else 1)
    facts["interventions"] = []
    if sc.interventions and rng.random() < sc.p_interventions:
        facts["interventions"] = pick(rng, sc.interventions, rng.randint(*sc.n_interventions), person, used)
    facts["outcomes"] = some(sc.outcomes, "outcomes") if rng.random() < P_OUTCOME else []

    primary, secondary, differentials = None, [], []
    discussion: list[Bi] = []
    if rng.random() < P_DIAGNOSIS:
        primary = pick(rng, sc.diagnoses, 1, person, used)[0]
        if rng.random() < P_SECONDARY:
            secondary = pick(rng, sc.secondary, 1, person, used)
        if rng.random() < P_DIFFERENTIALS:
            differentials = pick(rng, sc.differentials, rng.randint(1, 3), person, used)
        # The scenario's discussion names the disease, so it only appears with the diagnosis.
        discussion = some(sc.discussion, "discussion")
    discussion += some(vocab.GENERAL_DISCUSSION, "general")

    order = list(BACKGROUND)
    rng.shuffle(order)
    layout = Layout(
        background_first=rng.random() < 0.6,
        background_order=order,
        labs_first=rng.random() < 0.5,
        differentials_first=rng.random() < 0.5,
        merge_symptoms=rng.random() < 0.35,
        discussion=discussion,
        diagnosis_remark=primary is not None and rng.random() < 0.35,
        missing_diagnosis_note=primary is None and rng.random() < 0.6,
        consent=detail != "brief" and rng.random() < 0.5,
        conference=detail != "brief" and rng.random() < 0.25,
        anonymised=detail == "detailed" and rng.random() < 0.4,
    )
    return Case(
        patient_id=patient_id,
        scenario=sc,
        gender=gender,
        gender_stated=rng.random() < P_GENDER_STATED,
        age_value=age_value,
        age_unit=age_unit,
        age_stated=rng.random() < P_AGE_STATED,
        stage=_stage(age_value, age_unit),
        setting=rng.randrange(len(SETTINGS)),
        incidental=incidental,
        primary=primary,
        secondary=secondary,
        differentials=differentials,
        biopsy=biopsy,
        facts=facts,
        layout=layout,
    )


def closing_sentences(case: Case, rng: random.Random, lang: str, remarks) -> list[str]:
    """The report's closing paragraph in ``lang`` ("en" or "de"), from the case's layout.
    ``remarks`` are the language's templates for a remark on the diagnosis ({D})."""
    layout = case.layout
    closing = [getattr(item, lang) for item in layout.discussion]
    if layout.diagnosis_remark:
        closing.append(rng.choice(remarks).format(D=getattr(case.primary, lang)))
    if layout.conference:
        closing.append(getattr(vocab.CONFERENCE, lang))
    if layout.consent:
        closing.append(getattr(vocab.CONSENT_CHILD if case.scenario.paediatric else vocab.CONSENT_ADULT, lang))
    if layout.anonymised:
        closing.append(getattr(vocab.ANONYMISED, lang))
    return closing
