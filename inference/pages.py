"""Display shapes for the run pages: formatted progress numbers and the frozen config.

``run_progress.js`` formats the numbers it polls the same way (keep both in step), so a
page looks the same before and after its first refresh.
"""

from __future__ import annotations

import json
from typing import Any

from .models import ModelRun
from .selectors import RunProgress

CONFIG_SEARCH_DEPTH = 3
# How run_config_build (services/runs.py) names its parts; others follow alphabetically.
CONFIG_ORDER = ["prompt_template", "output_schema", "generation", "endpoint", "strategy", "keys", "selection"]


def format_rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def format_percent(done: int, total: int) -> str:
    # Formatted here, not with floatformat, so a CSS width never gets a locale's comma.
    return f"{(done / total * 100) if total else 0:.1f}"


def progress_display(progress: RunProgress) -> dict:
    return {
        **progress.as_dict(),
        "percent": format_percent(progress.done, progress.total),
        "docs_per_s_text": format_rate(progress.docs_per_s),
        "tokens_per_s_text": format_rate(progress.tokens_per_s),
        "eta_text": format_duration(progress.eta_s),
        "elapsed_text": format_duration(progress.elapsed_s),
    }


def _lookup(value: Any, names: tuple[str, ...], depth: int = 0) -> Any:
    """The first value under one of ``names``, searching nested dicts breadth-first."""
    if not isinstance(value, dict) or depth > CONFIG_SEARCH_DEPTH:
        return None
    for name in names:
        if value.get(name) not in (None, "", {}):
            return value[name]
    for child in value.values():
        found = _lookup(child, names, depth + 1)
        if found is not None:
            return found
    return None


def _display(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def config_facts(run: ModelRun) -> list[tuple[str, str]]:
    """The facts that identify how the candidates were made, as far as the config holds
    them (``services.runs.run_config_build`` freezes it); the endpoint's current record
    fills in for runs created before a fact was frozen."""
    config = run.config if isinstance(run.config, dict) else {}
    frozen_endpoint = config.get("endpoint") if isinstance(config.get("endpoint"), dict) else {}
    endpoint = run.endpoint
    candidates = [
        ("Model", frozen_endpoint.get("model_id") or _lookup(config, ("model_id",))),
        ("Model revision (sha)", _lookup(config, ("model_sha",))),
        ("Endpoint", frozen_endpoint.get("name") or (endpoint.name if endpoint else None)),
        ("Endpoint URL", frozen_endpoint.get("url")),
        ("Mode", frozen_endpoint.get("mode")),
        ("Strategy", config.get("strategy") or run.strategy),
        ("Prompt version", _prompt_version(config)),
        ("Generation parameters", config.get("generation")),
        ("Platform version", config.get("platform_version")),
    ]
    return [(label, _display(value)) for label, value in candidates if value not in (None, "", {})]


def _prompt_version(config: dict) -> Any:
    template = config.get("prompt_template")
    if isinstance(template, dict) and template.get("version"):
        return template["version"]
    return _lookup(config, ("prompt_version",))


def config_sections(config: Any) -> list[dict]:
    """Each top-level config entry as a section, the prompt first (PostgreSQL's jsonb
    does not keep key order): long or multi-line strings (a prompt template, a system
    prompt) as text blocks, everything else as indented JSON."""
    if not isinstance(config, dict):
        return [{"key": "config", "blocks": [{"label": "", "text": _pretty(config), "prose": False}]}]
    sections = []
    rank = {key: i for i, key in enumerate(CONFIG_ORDER)}
    for key, value in sorted(config.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])):
        if isinstance(value, dict) and any(_is_prose(v) for v in value.values()):
            blocks = [
                {"label": sub, "text": v if _is_prose(v) else _pretty(v), "prose": _is_prose(v)}
                for sub, v in value.items()
            ]
        else:
            blocks = [{"label": "", "text": value if _is_prose(value) else _pretty(value), "prose": _is_prose(value)}]
        sections.append({"key": key, "blocks": blocks})
    return sections


def _is_prose(value: Any) -> bool:
    return isinstance(value, str) and ("\n" in value or len(value) > 80)


def _pretty(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)
