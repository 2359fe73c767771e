"""Bilingual phrase specs, the scenario type and the pools every scenario shares (pure).

A phrase spec is written once for both languages, ``"english | deutsch"``, so a German
record says the same thing as its English original without any machine translation.
Specs come in three shapes:

* ``"text | Text"`` -- a fixed phrase;
* ``("text {v} | Text {v}", lo, hi[, decimals])`` -- ``{v}`` becomes a random number in
  ``[lo, hi]`` (decimal point in English, decimal comma in German);
* ``[spec, spec, ...]`` -- mutually exclusive alternatives: at most one is used.

A spec's English side may start with tags that limit who it fits: ``F:`` female, ``M:``
male, ``I:`` age given in months, ``O:`` 60 years or older, ``Y:`` adult under 65.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import NamedTuple

TAG_RE = re.compile(r"^([FMIOY]):")


class Bi(NamedTuple):
    """One realised phrase in both languages."""

    en: str
    de: str


@dataclass(frozen=True)
class Person:
    """What a tag check needs to know about the patient."""

    gender: str  # "male" | "female" (the true one, stated or not)
    age_years: int
    months: bool  # age is given in months


def spec_text(spec: str | tuple) -> str:
    return spec if isinstance(spec, str) else spec[0]


def spec_tags(spec: str | tuple) -> tuple[set[str], str]:
    text = spec_text(spec)
    tags = set()
    while m := TAG_RE.match(text):
        tags.add(m.group(1))
        text = text[m.end() :]
    return tags, text


def spec_fits(spec: str | tuple, person: Person) -> bool:
    tags, _ = spec_tags(spec)
    checks = {
        "F": person.gender == "female",
        "M": person.gender == "male",
        "I": person.months,
        "O": person.age_years >= 60,
        "Y": 18 <= person.age_years < 65,
    }
    return all(checks[t] for t in tags)


def _number(value: float, decimals: int, lang: str) -> str:
    text = f"{value:.{decimals}f}" if decimals else str(int(value))
    return text.replace(".", ",") if lang == "de" else text


def realise(spec: str | tuple, rng: random.Random, person: Person | None = None) -> Bi:
    """Turn one (non-list) spec into a :class:`Bi`, drawing its number if it has one."""
    _, text = spec_tags(spec)
    en, sep, de = text.partition(" | ")
    if not sep or " | " in de:
        raise ValueError(f"phrase spec needs exactly one ' | ': {text!r}")
    if isinstance(spec, tuple):
        lo, hi = spec[1], spec[2]
        decimals = spec[3] if len(spec) > 3 else 0
        if person is not None and "years ago" in en:
            hi = max(lo, min(hi, person.age_years - 5))  # nothing before the patient was born
        value = rng.randint(lo, hi) if decimals == 0 else round(rng.uniform(lo, hi), decimals)
        en = en.replace("{v}", _number(value, decimals, "en"))
        de = de.replace("{v}", _number(value, decimals, "de"))
    return Bi(en, de)


def pick(rng: random.Random, pool, k: int, person: Person, used: set[str], exclude=()) -> list[Bi]:
    """Up to ``k`` phrases from ``pool``: specs that fit ``person``, not excluded (English
    substrings), not already ``used`` anywhere in the case; one per alternatives list.
    Adds the English templates of the chosen specs to ``used``."""

    def usable(spec) -> bool:
        text = english_template(spec)
        return spec_fits(spec, person) and text not in used and not any(word in text for word in exclude)

    candidates = []
    for entry in pool:
        options = [s for s in entry if usable(s)] if isinstance(entry, list) else [entry] * usable(entry)
        if options:
            candidates.append(options)
    chosen = []
    for options in rng.sample(candidates, min(k, len(candidates))):
        spec = rng.choice(options)
        used.add(english_template(spec))
        chosen.append(realise(spec, rng, person))
    return chosen


def join_items(items: list[str], conjunction: str) -> str:
    """``a, b and c``; with semicolons when an item has a comma of its own."""
    if len(items) == 1:
        return items[0]
    if any("," in item for item in items):
        return "; ".join(items[:-1]) + f"; {conjunction} " + items[-1]
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def english_template(spec: str | tuple) -> str:
    """The English side of a spec without tags or numbers drawn: its identity in a case."""
    return spec_tags(spec)[1].partition(" | ")[0]


@dataclass(frozen=True)
class Scenario:
    """One kind of case: its diagnosis and the pools its facts are drawn from.

    ``p_*`` are the chances that a category is reported at all; everything else about a
    case (how many items, which ones, numbers) is drawn per case.
    """

    key: str
    diagnoses: tuple
    symptoms: tuple
    tests: tuple
    labs: tuple
    drugs: tuple
    outcomes: tuple
    age_years: tuple[int, int] | None = (18, 85)
    age_months: tuple[int, int] | None = None  # paediatric scenarios
    male_share: float = 0.5
    secondary: tuple = ()
    differentials: tuple = ()
    exam: tuple = ()
    biopsy: str | None = None  # the procedure; its findings go to pathology
    p_biopsy: float = 0.0
    pathology: tuple = ()
    pathology_after_treatment: bool = False  # a resected specimen rather than a biopsy
    core_drugs: tuple = ()  # always given when drug therapy is reported
    p_drugs: float = 0.92
    interventions: tuple = ()
    p_interventions: float = 0.0
    n_interventions: tuple[int, int] = (1, 2)
    p_labs: float = 0.92
    history: tuple = ()
    comorbidities: tuple = ()
    lifestyle: tuple = ()
    social: tuple = ()
    family: tuple = ()
    exclude: tuple[str, ...] = ()  # shared phrases (English substrings) that contradict this case
    incidental_ok: bool = False  # may be found without symptoms (signs_symptoms N/A)
    discussion: tuple = ()

    @property
    def paediatric(self) -> bool:
        return self.age_months is not None


# --- shared pools: adults ----------------------------------------------------------------

ADULT_LIFESTYLE_GROUPS: tuple[tuple, ...] = (
    (  # smoking
        ("active smoking with {v} pack-years | aktiver Nikotinkonsum mit {v} Packungsjahren", 5, 45),
        ("smoking cessation {v} years ago | Rauchstopp vor {v} Jahren", 2, 20),
        "no tobacco use | kein Tabakkonsum",
    ),
    (  # alcohol
        "occasional alcohol consumption | gelegentlicher Alkoholkonsum",
        ("alcohol consumption of about {v} drinks per day | Alkoholkonsum von etwa {v} Getränken pro Tag", 2, 6),
        "no alcohol consumption | kein Alkoholkonsum",
        "heavy alcohol use on weekends | starker Alkoholkonsum an Wochenenden",
    ),
    (  # occupation
        "Y:work as a teacher | Tätigkeit als Lehrkraft",
        "Y:construction work | Tätigkeit im Baugewerbe",
        "Y:office work | Bürotätigkeit",
        "Y:work on a dairy farm | Tätigkeit in der Milchviehhaltung",
        "Y:night-shift work as a nurse | Nachtschichtarbeit in der Pflege",
        "O:retired | im Ruhestand",
    ),
    (  # exercise
        "regular running three times a week | regelmäßiges Laufen dreimal pro Woche",
        "sedentary life style | überwiegend sitzende Lebensweise",
        "daily walks of about 30 minutes | tägliche Spaziergänge von etwa 30 Minuten",
        "Y:football in a local club | Fußball im Verein",
    ),
    (  # diet
        "vegetarian diet | vegetarische Ernährung",
        "diet high in processed food | Ernährung mit hohem Anteil an Fertigprodukten",
        "vegan diet | vegane Ernährung",
        "Mediterranean diet | mediterrane Ernährung",
    ),
)

ADULT_SOCIAL_GROUPS: tuple[tuple, ...] = (
    (  # household
        ("married with {v} children | verheiratet, {v} Kinder", 2, 4),
        "married, lives with spouse | verheiratet, lebt mit Ehepartner zusammen",
        "single, lives alone | ledig, lebt allein",
        "O:widowed, lives alone | verwitwet, lebt allein",
        "divorced, lives with a partner | geschieden, lebt mit Partner zusammen",
        "O:lives in a nursing home | lebt in einem Pflegeheim",
        "Y:lives in a shared flat | lebt in einer Wohngemeinschaft",
    ),
    (  # support
        "good family support | gute familiäre Unterstützung",
        "O:home care service twice daily | Pflegedienst zweimal täglich",
        "limited social support | eingeschränkte soziale Unterstützung",
    ),
    (  # substance use beyond ordinary habits
        "history of intravenous drug use | intravenöser Drogenkonsum in der Vorgeschichte",
        "occasional cannabis use | gelegentlicher Cannabiskonsum",
    ),
)

ADULT_HISTORY: tuple = (
    ("appendectomy {v} years ago | Appendektomie vor {v} Jahren", 5, 30),
    ("cholecystectomy {v} years ago | Cholezystektomie vor {v} Jahren", 2, 15),
    "tonsillectomy in childhood | Tonsillektomie im Kindesalter",
    ("fracture of the left wrist {v} years ago | Fraktur des linken Handgelenks vor {v} Jahren", 2, 20),
    ("hospitalization for pneumonia {v} years ago | stationärer Aufenthalt wegen Pneumonie vor {v} Jahren", 2, 10),
    ("inguinal hernia repair {v} years ago | Leistenhernienoperation vor {v} Jahren", 2, 25),
    ("F:cesarean section {v} years ago | Sectio caesarea vor {v} Jahren", 3, 25),
    ("O:total hip replacement {v} years ago | Hüft-Totalendoprothese vor {v} Jahren", 2, 12),
    ("knee arthroscopy {v} years ago | Kniearthroskopie vor {v} Jahren", 2, 15),
    "childhood asthma in remission | Asthma bronchiale im Kindesalter, in Remission",
    ("herpes zoster {v} years ago | Herpes zoster vor {v} Jahren", 2, 10),
)

ADULT_COMORBIDITIES: tuple = (
    "arterial hypertension | arterielle Hypertonie",
    "type 2 diabetes mellitus | Diabetes mellitus Typ 2",
    "hypothyroidism | Hypothyreose",
    ("obesity with a body mass index of {v} kg/m² | Adipositas mit einem Body-Mass-Index von {v} kg/m²", 31, 42),
    "hypercholesterolemia | Hypercholesterinämie",
    "bronchial asthma | Asthma bronchiale",
    "O:chronic obstructive pulmonary disease | chronisch obstruktive Lungenerkrankung",
    "O:chronic kidney disease stage 3 | chronische Niereninsuffizienz Stadium 3",
    "O:atrial fibrillation | Vorhofflimmern",
    "depression | Depression",
    "gout | Gicht",
    "O:osteoarthritis of both knees | Gonarthrose beidseits",
    "migraine | Migräne",
)

ADULT_FAMILY: tuple = (
    ("myocardial infarction in the father at {v} years | Myokardinfarkt des Vaters mit {v} Jahren", 45, 65),
    "breast cancer in the mother | Mammakarzinom der Mutter",
    [
        "type 2 diabetes mellitus in the mother | Diabetes mellitus Typ 2 der Mutter",
        "type 2 diabetes mellitus in the father | Diabetes mellitus Typ 2 des Vaters",
    ],
    "arterial hypertension in a brother | arterielle Hypertonie bei einem Bruder",
    "hypothyroidism in a sister | Hypothyreose bei einer Schwester",
    "colorectal cancer in the father | kolorektales Karzinom des Vaters",
    "stroke in the maternal grandmother | Schlaganfall der Großmutter mütterlicherseits",
    "rheumatoid arthritis in the mother | rheumatoide Arthritis der Mutter",
)

# --- shared pools: children --------------------------------------------------------------

CHILD_LIFESTYLE_GROUPS: tuple[tuple, ...] = (
    ("I:breastfed | gestillt", "I:formula-fed | Flaschennahrung"),
    ("attends daycare | besucht eine Kindertagesstätte", "cared for at home | wird zu Hause betreut"),
    ("exposure to passive smoking at home | Passivrauchexposition im Haushalt",),
)

CHILD_SOCIAL_GROUPS: tuple[tuple, ...] = (
    (
        "lives with both parents and an older sibling | lebt mit beiden Eltern und einem älteren Geschwisterkind",
        "single-parent household | alleinerziehender Haushalt",
        "family recently moved into a shared accommodation | Familie kürzlich in eine Gemeinschaftsunterkunft gezogen",
    ),
    ("older sibling with a recent cold | älteres Geschwisterkind mit kürzlicher Erkältung",),
)

CHILD_HISTORY: tuple = (
    ("born at {v} weeks of gestation | geboren in der {v}. Schwangerschaftswoche", 33, 41),
    "neonatal jaundice requiring phototherapy | Neugeborenenikterus mit Phototherapie",
    "previous hospitalization for gastroenteritis | früherer stationärer Aufenthalt wegen Gastroenteritis",
    "recurrent otitis media | rezidivierende Otitis media",
    "vaccinations up to date | Impfungen altersgerecht vollständig",
)

CHILD_COMORBIDITIES: tuple = (
    "atopic dermatitis | atopische Dermatitis",
    "small ventricular septal defect | kleiner Ventrikelseptumdefekt",
    "iron deficiency anemia | Eisenmangelanämie",
    "trisomy 21 | Trisomie 21",
)

CHILD_FAMILY: tuple = (
    "asthma in an older brother | Asthma bronchiale bei einem älteren Bruder",
    "atopic dermatitis in the mother | atopische Dermatitis der Mutter",
    "allergic rhinitis in the father | allergische Rhinitis des Vaters",
    "celiac disease in a maternal aunt | Zöliakie bei einer Tante mütterlicherseits",
)

# --- sentences that carry no extractable facts -------------------------------------------

CONSENT_ADULT = Bi(
    "Written informed consent for publication was obtained from the patient.",
    "Eine schriftliche Einwilligung zur Veröffentlichung liegt vor.",
)
CONSENT_CHILD = Bi(
    "Written informed consent for publication was obtained from the parents.",
    "Eine schriftliche Einwilligung der Eltern zur Veröffentlichung liegt vor.",
)
CONFERENCE = Bi(
    "The case was discussed in the interdisciplinary case conference.",
    "Der Fall wurde in der interdisziplinären Fallkonferenz besprochen.",
)
ANONYMISED = Bi(
    "All identifying details have been removed from this report.",
    "Alle identifizierenden Angaben wurden aus diesem Bericht entfernt.",
)

# General remarks for the discussion; they name no finding, so they carry no gold.
GENERAL_DISCUSSION: tuple = (
    "Case reports cannot establish causality, but they draw attention to presentations that may otherwise be "
    "missed. | Fallberichte können keine Kausalität belegen, lenken aber die Aufmerksamkeit auf Verläufe, die "
    "sonst übersehen werden könnten.",
    "A structured history and a careful examination remained the basis of the diagnostic work-up. | "
    "Eine strukturierte Anamnese und eine sorgfältige Untersuchung bildeten die Grundlage der Diagnostik.",
    "Close cooperation between the departments involved allowed treatment without delay. | "
    "Die enge Zusammenarbeit der beteiligten Fachabteilungen ermöglichte eine Behandlung ohne Verzögerung.",
    "Reports of comparable cases in the literature are limited to small series. | "
    "Berichte über vergleichbare Fälle beschränken sich in der Literatur auf kleine Fallserien.",
    "Repeated clinical reassessment was essential for timely decisions. | "
    "Die wiederholte klinische Reevaluation war für zeitgerechte Entscheidungen wesentlich.",
    "Clear communication with the patient and the family supported adherence to the treatment plan. | "
    "Eine klare Kommunikation mit den Betroffenen und den Angehörigen unterstützte die Therapietreue.",
    "Guideline recommendations were followed throughout the diagnostic and therapeutic process. | "
    "Während des gesamten diagnostischen und therapeutischen Vorgehens wurden die Leitlinienempfehlungen "
    "befolgt.",
    "Documenting such courses in detail helps clinicians to recognise similar presentations earlier. | "
    "Die genaue Dokumentation solcher Verläufe hilft, ähnliche Präsentationen früher zu erkennen.",
)
