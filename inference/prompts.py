"""Prompts and the output schema for extraction runs (pure; no Django).

The naive strategy follows ELMTEX_REFERENCE.md: a short instruction that lists the
category keys, with the report as the user message. A run freezes
:func:`prompt_template` into its config, so a resumed run or a later reader sees the
exact prompt that produced its candidates, whatever this module says by then.

The fixed wording deliberately contains no ELMTEX key as a substring (not even "age",
as in "language" or "message"): the baseline server (and anyone reading a prompt)
finds the requested keys by looking for them in the prompt text outside the report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

NA = "N/A"
ITEM_SEPARATOR = "; "
PROMPT_VERSION = "naive-v1"
ADVANCED_PROMPT_VERSION = "advanced-v1"
REPORT_PLACEHOLDER = "{report}"
# Markers of the raw /generate prompt (interfaces.md "Generate-mode prompt shape").
REPORT_MARKER = "Report:\n"
ANSWER_MARKER = "JSON:"
STRATEGIES = ("naive", "advanced", "finetuned")
BUILT_STRATEGIES = STRATEGIES
# How the advanced strategy shows its examples: as earlier chat turns (a user message with
# the example report, an assistant message with its gold summary as JSON), the way the
# fine-tuning records of ELMTEX_REFERENCE.md look; in a raw /generate prompt these become
# "Report:" / "JSON:" blocks before the report to extract.
EXAMPLES_AS = "turns"


@dataclass(frozen=True)
class CategoryPrompt:
    key: str
    label: str
    guideline: str


def _check_keys(keys: Sequence[str]) -> list[str]:
    keys = list(keys)
    if not keys:
        raise ValueError("a prompt needs at least one category key")
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"category keys repeat: {', '.join(duplicates)}")
    return keys


def output_schema(keys: Sequence[str], *, max_length: int = 2000) -> dict:
    """The JSON schema a guided generation must follow: one string (or null) per key.

    Built in the order of ``keys`` with no set or sorted() in between, so the same keys
    give the same ``json.dumps`` bytes every time: TGI compiles a grammar per distinct
    schema and caches it, and a schema that changed from request to request would be
    compiled again each time.
    """
    keys = _check_keys(keys)
    if max_length < 1:
        raise ValueError("max_length must be at least 1")
    return {
        "type": "object",
        "properties": {k: {"anyOf": [{"type": "string", "maxLength": max_length}, {"type": "null"}]} for k in keys},
        "required": keys,
        "additionalProperties": False,
    }


def naive_system_prompt(categories: Sequence[CategoryPrompt]) -> str:
    """A short instruction listing every key literally, one per line."""
    keys = _check_keys([c.key for c in categories])
    listed = "\n".join(f"- {k}" for k in keys)
    return (
        "Extract structured information from the clinical case report that follows.\n"
        "Return one JSON object with exactly these keys:\n"
        f"{listed}\n"
        "Each value is a string. Write N/A when the report does not mention it. "
        f'Separate several items with "{ITEM_SEPARATOR}". '
        "Return only the JSON object, with no other text."
    )


def advanced_system_prompt(categories: Sequence[CategoryPrompt]) -> str:
    """The longer instruction of the advanced strategy: every key with its label and
    guideline text, then the answer rules, then a pointer to the worked examples."""
    _check_keys([c.key for c in categories])
    described = []
    for c in categories:
        line = f"- {c.key}" + (f" ({c.label})" if c.label and c.label != c.key else "")
        guideline = " ".join((c.guideline or "").split())
        described.append(f"{line}: {guideline}" if guideline else line)
    listed = "\n".join(described)
    return (
        "Extract structured information from the clinical case report that follows.\n"
        "Return one JSON object with exactly these keys, each described after its name:\n"
        f"{listed}\n"
        "Each value is a string. Write N/A when the report does not mention it. "
        f'Separate several items with "{ITEM_SEPARATOR}". '
        "Return only the JSON object, with no other text.\n"
        "Worked examples of similar reports, each followed by its correct JSON object, come "
        "before the report to extract."
    )


def example_answer(summary: dict, keys: Sequence[str]) -> str:
    """A worked example's answer: its gold summary as the JSON object a model should
    write, keys in schema order, a missing or empty value as N/A."""
    values = {}
    for key in keys:
        value = summary.get(key) if isinstance(summary, dict) else None
        values[key] = value if isinstance(value, str) and value.strip() else NA
    return json.dumps(values, ensure_ascii=False)


def example_messages(examples: Sequence[dict] | None, keys: Sequence[str]) -> list[dict]:
    """Worked examples (``[{"report", "summary"}]``, best first) as user/assistant turns."""
    messages = []
    for example in examples or ():
        messages.append({"role": "user", "content": example["report"]})
        messages.append({"role": "assistant", "content": example_answer(example.get("summary") or {}, keys)})
    return messages


def naive_messages(*, report: str, categories: Sequence[CategoryPrompt]) -> list[dict]:
    """Chat messages of the naive strategy: the instruction, then the report as it is."""
    return [
        {"role": "system", "content": naive_system_prompt(categories)},
        {"role": "user", "content": report},
    ]


def generate_prompt(messages: list[dict]) -> str:
    """The raw /generate prompt for chat messages, without a model's chat template::

        <system prompt text>

        Report:
        <report text>

        JSON:

    A user message becomes a "Report:" block and an assistant message (a worked example
    of a later strategy) a "JSON:" block, so the report to extract always follows the
    last "Report:" marker. User and assistant texts are stripped of surrounding
    whitespace. The prompt ends with "JSON:" when the last message is the user's.
    """
    if not messages:
        raise ValueError("no messages to render")
    blocks = []
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if not isinstance(content, str):
            raise ValueError(f"message content must be a string, got {type(content).__name__}")
        if role == "system":
            blocks.append(content.strip())
        elif role == "user":
            blocks.append(REPORT_MARKER + content.strip())
        elif role == "assistant":
            blocks.append(f"{ANSWER_MARKER}\n{content.strip()}")
        else:
            raise ValueError(f"unknown message role {role!r}")
    if messages[-1]["role"] == "user":
        blocks.append(ANSWER_MARKER)
    return "\n\n".join(blocks)


def prompt_template(*, strategy: str, categories: Sequence[CategoryPrompt]) -> dict:
    """The prompt of a strategy as plain JSON, to freeze into ``ModelRun.config``.

    ``user`` and ``generate`` hold the placeholder ``{report}``: fill them with
    :func:`template_messages` / ``str.replace``, never ``str.format`` (reports hold
    braces).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    # finetuned: the naive prompt, sent to an endpoint serving a fine-tuned model.
    advanced = strategy == "advanced"
    system = advanced_system_prompt(categories) if advanced else naive_system_prompt(categories)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": REPORT_PLACEHOLDER}]
    template = {
        "strategy": strategy,
        "version": ADVANCED_PROMPT_VERSION if advanced else PROMPT_VERSION,
        "keys": [c.key for c in categories],
        "system": system,
        "user": REPORT_PLACEHOLDER,
        "generate": generate_prompt(messages),
    }
    if advanced:
        template["examples_as"] = EXAMPLES_AS
    return template


def template_messages(template: dict, *, report: str, examples: Sequence[dict] | None = None) -> list[dict]:
    """Chat messages for one report from a frozen :func:`prompt_template` (a template
    without ``user`` sends the report as it is); ``examples`` (advanced strategy) come
    as user/assistant turns between the instruction and the report."""
    user = template.get("user", REPORT_PLACEHOLDER)
    keys = template.get("keys") or []
    return [
        {"role": "system", "content": template["system"]},
        *example_messages(examples, keys),
        {"role": "user", "content": user.replace(REPORT_PLACEHOLDER, report)},
    ]


def template_prompt(template: dict, *, report: str, examples: Sequence[dict] | None = None) -> str:
    """The raw /generate prompt for one report from a frozen :func:`prompt_template`;
    equal to ``generate_prompt(template_messages(template, report=report, examples=examples))``."""
    if examples or "generate" not in template:
        return generate_prompt(template_messages(template, report=report, examples=examples))
    return template["generate"].replace(REPORT_PLACEHOLDER, report.strip())
