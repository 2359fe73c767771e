"""A synthetic ELMTEX demo dataset: invented case reports with gold summaries (pure; no Django).

Every report is assembled from phrase tables written for this project (``scenarios_*``,
``vocab``); nothing is copied from published cases. A case is drawn once as bilingual
facts (``cases``) and then written as an English report (``english``) and, for a share
of the cases, as a German one (``german``) from German frames, so the German record is
a counterpart with the same ``patient_id`` and the same facts, not a machine translation.

Gold items are inserted verbatim into the report, so every ``; ``-separated item of a
filled category occurs in the report text.

    english, german = generate_demo_records(240, seed=0)
    paths = write_demo_files("var/demo", n=240, seed=0)   # {"en": .../en.json, "de": .../de.json}
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from .cases import case_draw
from .english import report_en, title_en
from .german import report_de, title_de
from .scenarios_haem_paed import HAEM_PAED_SCENARIOS
from .scenarios_heart_lung import HEART_LUNG_SCENARIOS
from .scenarios_metabolic_neuro import METABOLIC_NEURO_SCENARIOS
from .scenarios_surgery import SURGERY_SCENARIOS

SCENARIOS = HEART_LUNG_SCENARIOS + METABOLIC_NEURO_SCENARIOS + SURGERY_SCENARIOS + HAEM_PAED_SCENARIOS
SPLIT_SHARES = (("train", 0.70), ("val", 0.15))  # the rest is "test"

__all__ = ["SCENARIOS", "generate_demo_records", "write_demo_files"]


def _splits(n: int, rng: random.Random) -> list[str]:
    """Exactly round(70%) train and round(15%) val, the rest test, in a seeded order."""
    labels: list[str] = []
    for name, share in SPLIT_SHARES:
        labels += [name] * round(n * share)
    labels += ["test"] * (n - len(labels))
    rng.shuffle(labels)
    return labels


def generate_demo_records(n: int = 240, *, seed: int = 0, german_share: float = 0.25) -> tuple[list[dict], list[dict]]:
    """``(english_records, german_records)`` in the import format of CLI.md.

    Deterministic for a seed. Scenarios are dealt like cards (each one once per round, in
    a shuffled order) so every condition is represented. The German records are the
    counterparts of ``round(n * german_share)`` English records, with the same
    ``patient_id`` and split and ``"language": "de"``.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    if not 0.0 <= german_share <= 1.0:
        raise ValueError("german_share must be between 0 and 1")
    rng = random.Random(seed)
    deck: list = []
    scenarios = []
    for _ in range(n):
        if not deck:
            deck = list(SCENARIOS)
            rng.shuffle(deck)
        scenarios.append(deck.pop())
    # One seed per case, so a case never depends on how much randomness another one used.
    case_seeds = [rng.getrandbits(64) for _ in range(n)]
    splits = _splits(n, rng)
    german_ids = set(rng.sample(range(n), round(n * german_share)))

    english, german = [], []
    width = max(4, len(str(n)))
    for i, (scenario, case_seed, split) in enumerate(zip(scenarios, case_seeds, splits, strict=True)):
        patient_id = f"demo-{i + 1:0{width}d}"
        case = case_draw(scenario, random.Random(case_seed), patient_id)
        en_rng = random.Random(case_seed ^ 0x5EED_0001)
        english.append(
            {
                "patient_id": patient_id,
                "split": split,
                "title": title_en(case, en_rng),
                "report": report_en(case, en_rng),
                "summary": case.summary("en"),
            }
        )
        if i in german_ids:
            de_rng = random.Random(case_seed ^ 0x5EED_0002)
            german.append(
                {
                    "patient_id": patient_id,
                    "language": "de",
                    "split": split,
                    "title": title_de(case, de_rng),
                    "report": report_de(case, de_rng),
                    "summary": case.summary("de"),
                }
            )
    return english, german


def write_demo_files(out_dir, n: int = 240, seed: int = 0) -> dict[str, Path]:
    """Write ``en.json`` and ``de.json`` (JSON arrays, UTF-8) into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    english, german = generate_demo_records(n, seed=seed)
    paths = {}
    for language, records in (("en", english), ("de", german)):
        path = out / f"{language}.json"
        text = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # readers never see a half-written file
        paths[language] = path
    return paths
