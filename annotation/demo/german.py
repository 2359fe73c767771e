"""German case reports and titles from a :class:`~annotation.demo.cases.Case` (pure).

Written from German frames, not translated: the style follows a German discharge letter
(``Arztbrief``), with short headed statements (``Labor: ...``, ``Verlauf: ...``). Headed
lists keep every phrase in the nominative, so each gold item occurs in the report exactly
as it is written in the summary.
"""

from __future__ import annotations

import random

from .cases import SETTINGS, Case, closing_sentences
from .vocab import Bi, capitalise

# (stage, stated gender) -> (indefinite nominative, indefinite accusative, definite nominative,
#                            relative pronoun, bare noun for a headed opening line)
PERSONS = {
    ("adult", "male"): ("ein männlicher Patient", "einen männlichen Patienten", "der Patient", "der", "Patient"),
    ("adult", "female"): ("eine weibliche Patientin", "eine weibliche Patientin", "die Patientin", "die", "Patientin"),
    ("adult", None): ("eine erwachsene Person", "eine erwachsene Person", "die Person", "die", "Person"),
    ("infant", "male"): ("ein männlicher Säugling", "einen männlichen Säugling", "der Säugling", "der", "Säugling"),
    ("infant", "female"): ("ein weiblicher Säugling", "einen weiblichen Säugling", "der Säugling", "der", "Säugling"),
    ("infant", None): ("ein Säugling", "einen Säugling", "der Säugling", "der", "Säugling"),
    ("toddler", "male"): ("ein männliches Kleinkind", "ein männliches Kleinkind", "das Kleinkind", "das", "Kleinkind"),
    ("toddler", "female"): (
        "ein weibliches Kleinkind",
        "ein weibliches Kleinkind",
        "das Kleinkind",
        "das",
        "Kleinkind",
    ),
    ("toddler", None): ("ein Kleinkind", "ein Kleinkind", "das Kleinkind", "das", "Kleinkind"),
    ("child", "male"): ("ein männliches Kind", "ein männliches Kind", "das Kind", "das", "Kind"),
    ("child", "female"): ("ein weibliches Kind", "ein weibliches Kind", "das Kind", "das", "Kind"),
    ("child", None): ("ein Kind", "ein Kind", "das Kind", "das", "Kind"),
}

FRAMES = {
    "symptoms": (
        "Aktuelle Beschwerden: {L}.",
        "{D} berichtete über folgende Beschwerden: {L}.",
        "Leitsymptome bei Aufnahme: {L}.",
        "Bei Aufnahme bestanden folgende Symptome: {L}.",
    ),
    "exam": (
        "Klinischer Befund: {L}.",
        "Bei der körperlichen Untersuchung fanden sich: {L}.",
        "Untersuchungsbefund: {L}.",
    ),
    "history": (
        "Vorgeschichte: {L}.",
        "Anamnestisch bekannt: {L}.",
        "Aus der Vorgeschichte ist Folgendes bekannt: {L}.",
    ),
    "comorbidities": ("Begleiterkrankungen: {L}.", "Nebendiagnosen: {L}.", "Als Begleiterkrankungen bestehen: {L}."),
    "lifestyle": ("Lebensstil: {L}.", "Zum Lebensstil: {L}.", "Gewohnheiten: {L}."),
    "social": ("Sozialanamnese: {L}.", "Zur sozialen Situation: {L}."),
    "family": ("Familienanamnese: {L}.", "In der Familie bekannt: {L}."),
    "tests": ("Diagnostik: {L}.", "Apparative Diagnostik: {L}.", "Folgende Untersuchungen wurden durchgeführt: {L}."),
    "labs": ("Labor: {L}.", "Laborchemisch: {L}.", "Laborwerte bei Aufnahme: {L}."),
    "drugs": (
        "Medikamentöse Therapie: {L}.",
        "Therapie: {L}.",
        "Es wurde folgende medikamentöse Behandlung durchgeführt: {L}.",
    ),
    "interventions": (
        "Interventionelle Therapie: {L}.",
        "Durchgeführte Eingriffe und Maßnahmen: {L}.",
        "Therapeutische Maßnahmen: {L}.",
    ),
    "outcomes": ("Verlauf: {L}.", "Im weiteren Verlauf: {L}.", "Verlauf und Nachsorge: {L}."),
}
CHILD_SYMPTOMS = (
    "Die Eltern berichteten über folgende Beschwerden: {L}.",
    "Aktuelle Beschwerden: {L}.",
    "Leitsymptome bei Aufnahme: {L}.",
)
DIAGNOSIS = ("Diagnose: {D}.", "Abschließende Diagnose: {D}.", "Zusammenfassend ergab sich die Diagnose: {D}.")
SECONDARY = ("Zusätzlich diagnostiziert: {L}.", "Im Verlauf kompliziert durch: {L}.")
DIFFERENTIALS = ("Differenzialdiagnostisch erwogen: {L}.", "Differenzialdiagnosen: {L}.")
BIOPSY = ("{B}: {L}.", "Befund ({b}): {L}.")
REMARK = (
    "Der Fall verdeutlicht, dass bei ähnlicher Symptomatik frühzeitig an folgende Diagnose gedacht werden sollte: {D}.",
    "Eine frühe Diagnose ermöglicht eine rasche Behandlung und hilft, Komplikationen zu vermeiden ({D}).",
)
MISSING_DIAGNOSIS = "Eine abschließende Diagnose ist in den vorliegenden Unterlagen nicht dokumentiert."
INCIDENTAL = (
    "Die Vorstellung erfolgte nach einem Zufallsbefund bei einer Routineuntersuchung; Beschwerden bestanden nicht."
)


def join_de(items: list[Bi]) -> str:
    """``a, b und c``; with semicolons (and no ``und``) when an item has a comma of its own,
    as German decimal numbers often do."""
    texts = [item.de for item in items]
    if len(texts) == 1:
        return texts[0]
    if any("," in text for text in texts):
        return "; ".join(texts)
    return ", ".join(texts[:-1]) + " und " + texts[-1]


def _person(case: Case):
    return PERSONS[case.stage, case.gender if case.gender_stated else None]


def _intro(case: Case, rng) -> str:
    np, np_acc, _, relative, noun = _person(case)
    _, at, admitted = SETTINGS[case.setting]
    frames = []
    if case.age_stated:
        age_nom = case.age_text("de")
        age_dat = age_nom + "n"  # "45 Jahre" -> "im Alter von 45 Jahren", "8 Monate" -> "8 Monaten"
        frames += [
            f"{capitalise(np)} im Alter von {age_dat} stellte sich {at} vor.",
            f"Wir berichten über {np_acc} im Alter von {age_dat}, {relative} {admitted} aufgenommen wurde.",
        ]
        head = [noun, age_nom]
    else:
        frames += [
            f"{capitalise(np)} stellte sich {at} vor.",
            f"Wir berichten über {np_acc}, {relative} {admitted} aufgenommen wurde.",
        ]
        head = [noun]
    if case.gender_stated:
        head.append(case.gender_text("de"))
    if len(head) > 1:  # a headed opening line needs something to say
        frames.append(", ".join(head) + f". Vorstellung {at}.")
    return rng.choice(frames)


def _sentence(rng, case: Case, kind: str, items: list[Bi]) -> str:
    frames = CHILD_SYMPTOMS if kind == "symptoms" and case.stage != "adult" else FRAMES[kind]
    return rng.choice(frames).format(D=capitalise(_person(case)[2]), L=join_de(items))


def _diagnosis(case: Case, rng) -> list[str]:
    if case.primary is None:
        return [MISSING_DIAGNOSIS] if case.layout.missing_diagnosis_note else []
    out = [rng.choice(DIAGNOSIS).format(D=case.primary.de)]
    if case.secondary:
        out.append(rng.choice(SECONDARY).format(L=join_de(case.secondary)))
    if case.differentials:
        ddx = rng.choice(DIFFERENTIALS).format(L=join_de(case.differentials))
        out = [ddx, *out] if case.layout.differentials_first else [*out, ddx]
    return out


def _pathology(case: Case, rng) -> list[str]:
    if not case.facts["pathology"]:
        return []
    biopsy = case.biopsy.de
    return [rng.choice(BIOPSY).format(B=capitalise(biopsy), b=biopsy, L=join_de(case.facts["pathology"]))]


def report_de(case: Case, rng: random.Random) -> str:
    """The German report of ``case``, in the same arrangement as the English one."""
    f, layout = case.facts, case.layout
    intro = [_intro(case, rng)]
    if case.incidental:
        intro.append(INCIDENTAL)
    background = [_sentence(rng, case, kind, f[kind]) for kind in layout.background_order if f[kind]]
    presentation = [_sentence(rng, case, kind, f[kind]) for kind in ("symptoms", "exam") if f[kind]]
    first, second = (background, presentation) if layout.background_first else (presentation, background)
    paragraphs = [intro + first, second]

    workup = [_sentence(rng, case, kind, f[kind]) for kind in ("labs", "tests") if f[kind]]
    if not layout.labs_first:
        workup.reverse()
    after = case.scenario.pathology_after_treatment
    if not after:
        workup += _pathology(case, rng)
    paragraphs.append(workup + _diagnosis(case, rng))
    treatment = [_sentence(rng, case, kind, f[kind]) for kind in ("drugs", "interventions") if f[kind]]
    if after:
        treatment += _pathology(case, rng)
    paragraphs.append(treatment)
    if f["outcomes"]:
        paragraphs.append([_sentence(rng, case, "outcomes", f["outcomes"])])

    paragraphs.append(closing_sentences(case, rng, "de", REMARK))
    return "\n\n".join(" ".join(p) for p in paragraphs if p)


def title_de(case: Case, rng: random.Random) -> str:
    if case.primary is None:
        return "Eine diagnostische Herausforderung: ein Fallbericht"
    dx = capitalise(case.primary.de)
    return rng.choice((f"{dx}: ein Fallbericht", f"Fallbericht: {dx}", f"Ungewöhnliche Präsentation: {dx}"))
