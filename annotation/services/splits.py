"""Split assignment (CLI.md "Splits", ``assign_splits``).

The unit drawn is an original document (``translation_of`` empty) together with its
translations, so a German record always lands in the split of its English original.
Units are ordered by ``sha256(f"{seed}:{external_id}")``: the order depends on the seed
and the ids only, never on import order or database ids. The ordered units are cut by
exact counts (largest remainder), so 0.8/0.1/0.1 of 1,000 units is exactly 800/100/100.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from elmtex_site.errors import ApplicationError, Problem

from ..models import Document, Project, Split

SPLIT_ORDER = (Split.TRAIN.value, Split.VAL.value, Split.TEST.value)
RATIO_TOLERANCE = 1e-6
# Rows per UPDATE ... WHERE id IN (...): keeps each statement well under PostgreSQL's
# and SQLite's parameter limits.
UPDATE_CHUNK = 5000


@dataclass(frozen=True)
class SplitResult:
    """What ``splits_assign`` changed. ``assigned``: documents given a split now, per
    split (translations included); ``translations_followed``: of those, translations that
    took their original's split; ``unchanged``: documents that already had a split and
    were left as they were (always 0 with ``force``)."""

    assigned: dict[str, int]
    translations_followed: int
    unchanged: int
    units_drawn: int
    ratios: tuple[float, float, float]
    seed: int
    force: bool
    units_per_split: dict[str, int] = field(default_factory=dict)

    @property
    def documents(self) -> int:
        return sum(self.assigned.values())

    def line(self) -> str:
        """The one stdout line of ``assign_splits``."""
        per_split = ", ".join(f"{s} {self.assigned.get(s, 0)}" for s in SPLIT_ORDER)
        return (
            f"assigned {self.documents} documents: {per_split} ({self.translations_followed} translations "
            f"followed their original; {self.unchanged} already had a split)"
        )

    def as_dict(self) -> dict:
        return {
            "documents": self.documents,
            "assigned": {s: self.assigned.get(s, 0) for s in SPLIT_ORDER},
            "units_drawn": self.units_drawn,
            "units_per_split": {s: self.units_per_split.get(s, 0) for s in SPLIT_ORDER},
            "translations_followed": self.translations_followed,
            "unchanged": self.unchanged,
            "ratios": dict(zip(SPLIT_ORDER, self.ratios, strict=True)),
            "seed": self.seed,
            "force": self.force,
        }


def _refuse(message: str, field: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", problems=[Problem(message, field=field)])


def splits_ratios_parse(ratios: str | Sequence, *, field: str = "ratios") -> tuple[float, float, float]:
    """``"0.8,0.1,0.1"`` or ``[0.8, 0.1, 0.1]`` (train, val, test) as three floats;
    refuses anything else with what is expected."""
    expected = "give three non-negative numbers train,val,test that sum to 1, e.g. 0.8,0.1,0.1"
    if isinstance(ratios, str):
        parts: list = [p.strip() for p in ratios.split(",")]
    elif isinstance(ratios, list | tuple):
        parts = list(ratios)
    else:
        raise _refuse(f"expected a list or a comma-separated string; {expected}", field)
    if len(parts) != 3:
        raise _refuse(f"expected 3 ratios (train, val, test), got {len(parts)}; {expected}", field)
    values = []
    for name, part in zip(SPLIT_ORDER, parts, strict=True):
        if isinstance(part, bool):
            raise _refuse(f"{name} ratio {part!r} is not a number; {expected}", field)
        try:
            value = float(part)
        except (TypeError, ValueError):
            raise _refuse(f"{name} ratio {part!r} is not a number; {expected}", field) from None
        if not math.isfinite(value) or value < 0:
            raise _refuse(f"{name} ratio {part!r} must be a non-negative number; {expected}", field)
        values.append(value)
    total = math.fsum(values)
    if abs(total - 1.0) > RATIO_TOLERANCE:
        raise _refuse(f"the ratios sum to {total:g}, not 1; {expected}", field)
    return values[0], values[1], values[2]


def splits_counts(*, units: int, ratios: Sequence[float]) -> list[int]:
    """Exact counts per split for ``units`` (largest remainder; ties go to the earlier
    split, train before val before test)."""
    # Rounded so that float noise (0.29 * 100 = 28.999...) neither loses a unit nor breaks a tie.
    quotas = [round(units * r, 9) for r in ratios]
    counts = [math.floor(q) for q in quotas]
    left = units - sum(counts)
    by_remainder = sorted(range(len(ratios)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in by_remainder[:left]:
        counts[i] += 1
    return counts


def _unit_key(seed: int, external_id: str, language: str, pk: int) -> tuple:
    digest = hashlib.sha256(f"{seed}:{external_id}".encode()).hexdigest()
    # Language and id only break ties between originals that share an external id.
    return digest, language, pk


def splits_assign(*, project: Project, ratios, seed: int, force: bool = False) -> SplitResult:
    """Give every document of ``project`` without a split (all documents with ``force``)
    a train/val/test split; translations follow their original. All or nothing.

    Without ``force`` a unit whose original already has a split is not drawn again: its
    translations without a split take the original's. A unit whose original has none but
    a translation has one takes that translation's split, so the pair stays together.
    """
    ratios = splits_ratios_parse(ratios)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise _refuse(f"expected an integer, got {seed!r}", "seed")
    with transaction.atomic():
        # One assignment per project at a time; documents stay writable meanwhile.
        Project.objects.select_for_update().filter(pk=project.pk).first()
        rows = list(
            Document.objects.filter(project=project).values_list(
                "id", "external_id", "language", "split", "translation_of_id"
            )
        )
        plan, result = _plan(rows, ratios=ratios, seed=seed, force=force)
        current = {r[0]: r[3] for r in rows}
        now = timezone.now()
        for split, assigned in plan.items():
            # A document that keeps its value (--force, same seed) is not written again.
            ids = [pk for pk in assigned if current[pk] != split]
            for start in range(0, len(ids), UPDATE_CHUNK):
                Document.objects.filter(id__in=ids[start : start + UPDATE_CHUNK]).update(split=split, updated_at=now)
    return result


def _plan(rows: list[tuple], *, ratios, seed: int, force: bool) -> tuple[dict[str, list[int]], SplitResult]:
    """Which document ids get which split, and the counts to report."""
    by_id = {r[0]: r for r in rows}

    def root(pk: int) -> int:
        seen = set()
        while True:
            parent = by_id[pk][4]
            if parent is None or parent not in by_id or parent in seen:
                return pk
            seen.add(pk)
            pk = parent

    members: dict[int, list[int]] = defaultdict(list)  # original id -> translation ids
    for pk, *_ in rows:
        top = root(pk)
        if top != pk:
            members[top].append(pk)
    originals = [r for r in rows if root(r[0]) == r[0]]

    none = Split.NONE.value
    plan: dict[str, list[int]] = defaultdict(list)
    followed = 0
    unchanged = 0
    to_draw = []
    for original in originals:
        pk, split = original[0], original[3]
        translations = sorted(members.get(pk, []), key=lambda t: (by_id[t][2], t))
        if force:
            to_draw.append(original)
            continue
        existing = split if split != none else next((by_id[t][3] for t in translations if by_id[t][3] != none), None)
        if existing is None:
            to_draw.append(original)
            continue
        # The unit already has a split: fill in its members that have none.
        for member in [pk, *translations]:
            if by_id[member][3] == none:
                plan[existing].append(member)
                followed += member != pk
            else:
                unchanged += 1

    to_draw.sort(key=lambda r: _unit_key(seed, r[1], r[2], r[0]))
    counts = splits_counts(units=len(to_draw), ratios=ratios)
    units_per_split = dict(zip(SPLIT_ORDER, counts, strict=True))
    start = 0
    for split, count in units_per_split.items():
        for original in to_draw[start : start + count]:
            plan[split].append(original[0])
            for t in members.get(original[0], []):
                if force or by_id[t][3] == none:
                    plan[split].append(t)
                    followed += 1
                else:
                    unchanged += 1
        start += count

    result = SplitResult(
        assigned={s: len(plan.get(s, [])) for s in SPLIT_ORDER},
        translations_followed=followed,
        unchanged=unchanged,
        units_drawn=len(to_draw),
        ratios=ratios,
        seed=seed,
        force=force,
        units_per_split=units_per_split,
    )
    return dict(plan), result
