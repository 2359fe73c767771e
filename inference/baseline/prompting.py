"""Where the report and the wanted keys are in a prompt (pure; the rule in interfaces.md).

A generate-mode prompt is ``<system text>\\n\\nReport:\\n<report>\\n\\nJSON:``; a chat request's
report is the last user message, read with the same rule. Keys come from the grammar if
there is one, else from the ELMTEX keys named in the prompt outside the report, else all.
"""

from __future__ import annotations

import re

from annotation.schema import ELMTEX_KEYS

REPORT_MARKER = "\nReport:\n"
JSON_MARKER = "\n\nJSON:"


def report_from_prompt(text: str) -> tuple[str, str]:
    """``(report, rest)``: the report by the marker rule, and the prompt text around it."""
    if REPORT_MARKER in text:
        head, _, report = text.rpartition(REPORT_MARKER)
    elif text.startswith("Report:\n"):
        head, report = "", text[len("Report:\n") :]
    else:
        return text.strip(), ""
    tail = ""
    cut = report.rfind(JSON_MARKER)
    if cut != -1 and not report[cut + len(JSON_MARKER) :].strip():
        report, tail = report[:cut], report[cut:]
    return report.strip(), head + tail


def keys_named(text: str) -> list[str]:
    """The ELMTEX keys written in ``text`` as words, in ELMTEX order."""
    return [key for key in ELMTEX_KEYS if re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", text)]


def chat_report(messages: list) -> tuple[str, str]:
    """``(report, rest)`` of a chat request: the last user message is the report's carrier."""
    contents = [_content_text(m.get("content")) for m in messages if isinstance(m, dict)]
    users = [i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        return "", "\n".join(contents)
    last = users[-1]
    report, rest = report_from_prompt(contents[last])
    others = [c for i, c in enumerate(contents) if i != last]
    return report, "\n".join([*others, rest])


def _content_text(content) -> str:
    """A message's text: a string, or the text parts of an OpenAI content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def wanted_keys(rest: str, schema: dict | None) -> list[str]:
    if schema is not None:
        return list(schema.get("properties") or {})
    return keys_named(rest) or list(ELMTEX_KEYS)
