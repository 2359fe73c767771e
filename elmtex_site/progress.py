"""CLI progress bars on stderr (tqdm), shown when stderr is a terminal or when asked."""

import sys

from tqdm import tqdm


def progress_bar(*, total: int | None, desc: str, unit: str = "it", force: bool | None = None, **kwargs) -> tqdm:
    show = sys.stderr.isatty() if force is None else force
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=not show,
        mininterval=0.5,
        dynamic_ncols=True,
        unit_scale=unit == "B",
        **kwargs,
    )
