"""English case reports and titles from a :class:`~annotation.demo.cases.Case` (pure).

Every fact is inserted verbatim into a sentence frame, so each item of the gold summary
occurs in the report as written. Frames are picked at random for variety; which facts are
told, and in what order, comes from the case's layout.
"""

from __future__ import annotations

import random

from .cases import SETTINGS, Case, closing_sentences
from .vocab import Bi, capitalise, join_items

NOUNS = {"infant": "infant", "toddler": "child", "child": "child", "adult": "patient"}

FRAMES = {
    "symptoms": (
        "{S} reported {L}.",
        "Presenting complaints were {L}.",
        "On admission, {s} complained of {L}.",
        "Symptoms at presentation included {L}.",
    ),
    "exam": (
        "On examination, the following findings were noted: {L}.",
        "Examination findings: {L}.",
        "Physical examination showed the following: {L}.",
    ),
    "history": (
        "{P} past medical history included {L}.",
        "{S} had a history of {L}.",
        "Previous medical history was notable for {L}.",
    ),
    "comorbidities": ("Comorbidities included {L}.", "{S} also had {L}.", "Known coexisting conditions were {L}."),
    "lifestyle": (
        "Life style: {L}.",
        "Regarding life style, the following was noted: {L}.",
        "Life style factors comprised {L}.",
    ),
    "social": (
        "Social history: {L}.",
        "Regarding social history, the following was noted: {L}.",
        "Socially, the following was documented: {L}.",
    ),
    "family": (
        "Family history was notable for {L}.",
        "Family history revealed {L}.",
        "{P} family history included {L}.",
    ),
    "tests": (
        "Diagnostic work-up included {L}.",
        "Further investigations comprised {L}.",
        "The following investigations were performed: {L}.",
    ),
    "labs": ("Laboratory tests revealed {L}.", "Blood tests showed {L}.", "Relevant laboratory values were {L}."),
    "pathology": (
        "Histopathological examination revealed {L}.",
        "Histology showed {L}.",
        "The pathology report described {L}.",
    ),
    "drugs": (
        "Treatment consisted of {L}.",
        "{S} was treated with {L}.",
        "Medication included {L}.",
        "Therapy was started with {L}.",
    ),
    "interventions": (
        "{S} underwent {L}.",
        "Interventional management comprised {L}.",
        "The following procedures were performed: {L}.",
    ),
    "outcomes": ("{S} was {L}.", "Regarding the outcome, {s} was {L}.", "At the end of follow-up, {s} was {L}."),
}
# Infants and small children do not report symptoms themselves.
CHILD_SYMPTOMS = (
    "The parents reported {L}.",
    "Presenting complaints were {L}.",
    "According to the parents, symptoms included {L}.",
    "Symptoms at presentation included {L}.",
)
DIAGNOSIS = (
    "The diagnosis of {D} was made.",
    "A diagnosis of {D} was established.",
    "Based on these findings, {D} was diagnosed.",
)
SECONDARY = ("In addition, {L} {was} diagnosed.", "The course was complicated by {L}.")
DIFFERENTIALS = (
    "Differential diagnoses included {L}.",
    "{LC} {was} considered in the differential diagnosis.",
    "The differential diagnosis comprised {L}.",
)
BIOPSY = ("{B} showed {L}.", "{B} revealed {L}.")
REMARK = (
    "This case illustrates that {D} should be considered early in patients with a similar presentation.",
    "Early recognition of {D} allows timely treatment and helps to avoid complications.",
)
MISSING_DIAGNOSIS = "A final diagnosis was not documented in the available records."
INCIDENTAL = "{S} had been referred after an incidental finding during a routine check-up and reported no complaints."


class _Who:
    """How the report refers to the patient: a noun phrase, a subject, a possessive."""

    def __init__(self, case: Case, rng: random.Random):
        self.rng = rng
        self.noun = NOUNS[case.stage]
        if case.gender_stated:
            self.np = f"a {case.gender} {self.noun}"
            self.pronoun, self.possessive = ("He", "His") if case.gender == "male" else ("She", "Her")
        else:
            self.np = f"an {self.noun}" if self.noun[0] in "aeiou" else f"a {self.noun}"
            self.pronoun, self.possessive = f"The {self.noun}", f"The {self.noun}'s"

    def fill(self, frame: str, **values) -> str:
        subject = self.pronoun if self.rng.random() < 0.7 else f"The {self.noun}"
        possessive = self.possessive if subject == self.pronoun else f"The {self.noun}'s"
        return frame.format(S=subject, s=subject[0].lower() + subject[1:], P=possessive, **values)


def _items(items: list[Bi]) -> list[str]:
    return [item.en for item in items]


def _sentence(rng, who: _Who, kind: str, items: list[Bi]) -> str:
    frames = CHILD_SYMPTOMS if kind == "symptoms" and who.noun != "patient" else FRAMES[kind]
    return who.fill(rng.choice(frames), L=join_items(_items(items), "and"))


def _intro(case: Case, rng, who: _Who) -> str:
    setting = SETTINGS[case.setting][0]
    merged = case.layout.merge_symptoms and case.facts["symptoms"]
    symptoms = join_items(_items(case.facts["symptoms"]), "and") if merged else ""
    with_ = f" with {symptoms}" if merged else ""
    because = f" because of {symptoms}" if merged else ""
    np = capitalise(who.np)
    if case.age_stated:
        age = case.age_text("en")
        frames = (
            f"{np} aged {age} presented {setting}{with_}.",
            f"We report the case of {who.np}, {age} of age, who was admitted {setting}{because}.",
            f"{np}, {age} old, was referred {setting}{with_}.",
        )
    else:
        frames = (
            f"{np} presented {setting}{with_}.",
            f"We report the case of {who.np} who was admitted {setting}{because}.",
            f"{np} was referred {setting}{with_}.",
        )
    return rng.choice(frames)


def _diagnosis(case: Case, rng) -> list[str]:
    if case.primary is None:
        return [MISSING_DIAGNOSIS] if case.layout.missing_diagnosis_note else []
    out = [rng.choice(DIAGNOSIS).format(D=case.primary.en)]
    if case.secondary:
        items = _items(case.secondary)
        out.append(rng.choice(SECONDARY).format(L=join_items(items, "and"), was="were" if len(items) > 1 else "was"))
    if case.differentials:
        items = _items(case.differentials)
        text = join_items(items, "and")
        ddx = rng.choice(DIFFERENTIALS).format(L=text, LC=capitalise(text), was="were" if len(items) > 1 else "was")
        out = [ddx, *out] if case.layout.differentials_first else [*out, ddx]
    return out


def _pathology(case: Case, rng, who: _Who) -> list[str]:
    if not case.facts["pathology"]:
        return []
    text = join_items(_items(case.facts["pathology"]), "and")
    return [rng.choice(BIOPSY).format(B=capitalise(case.biopsy.en), L=text)]


def report_en(case: Case, rng: random.Random) -> str:
    """The English report of ``case``: paragraphs separated by blank lines."""
    who = _Who(case, rng)
    f, layout = case.facts, case.layout
    intro = [_intro(case, rng, who)]
    if case.incidental:
        intro.append(who.fill(INCIDENTAL))
    background = [_sentence(rng, who, kind, f[kind]) for kind in layout.background_order if f[kind]]
    presentation = []
    if f["symptoms"] and not layout.merge_symptoms:
        presentation.append(_sentence(rng, who, "symptoms", f["symptoms"]))
    if f["exam"]:
        presentation.append(_sentence(rng, who, "exam", f["exam"]))
    first, second = (background, presentation) if layout.background_first else (presentation, background)
    paragraphs = [intro + first, second]

    workup = [_sentence(rng, who, kind, f[kind]) for kind in ("labs", "tests") if f[kind]]
    if not layout.labs_first:
        workup.reverse()
    after = case.scenario.pathology_after_treatment
    if not after:
        workup += _pathology(case, rng, who)
    paragraphs.append(workup + _diagnosis(case, rng))
    treatment = [_sentence(rng, who, kind, f[kind]) for kind in ("drugs", "interventions") if f[kind]]
    if after:
        treatment += _pathology(case, rng, who)
    paragraphs.append(treatment)
    if f["outcomes"]:
        paragraphs.append([_sentence(rng, who, "outcomes", f["outcomes"])])

    paragraphs.append(closing_sentences(case, rng, "en", REMARK))
    return "\n\n".join(" ".join(p) for p in paragraphs if p)


def title_en(case: Case, rng: random.Random) -> str:
    if case.primary is None:
        return rng.choice(("A diagnostic challenge: a case report", "Case report of unexplained symptoms"))
    dx = case.primary.en
    who = _Who(case, rng)
    return rng.choice(
        (f"{capitalise(dx)}: a case report", f"An unusual presentation of {dx}", f"{capitalise(dx)} in {who.np}")
    )
