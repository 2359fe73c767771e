"""Character diffs of two field values as HTML, for the adjudication and history pages.

Pure: no Django models. ``difflib.SequenceMatcher`` on characters (``autojunk`` off, so
repeated letters in a long value are compared like any other), each run of text escaped,
deletions in ``<del>``, insertions in ``<ins>``.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from html import escape

from django.utils.safestring import SafeString, mark_safe

# Past this many characters on either side a character diff is slow (quadratic) and not
# readable anyway: show the old value deleted and the new one inserted instead.
MAX_DIFF_CHARS = 5000


def _text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def diff_opcodes(old: str, new: str) -> list[tuple[str, str]]:
    """``[(op, text)]`` with op ``equal``, ``delete`` or ``insert``, in reading order."""
    if old == new:
        return [("equal", old)] if old else []
    if len(old) > MAX_DIFF_CHARS or len(new) > MAX_DIFF_CHARS:
        return [op for op in (("delete", old), ("insert", new)) if op[1]]
    parts: list[tuple[str, str]] = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            parts.append(("equal", old[i1:i2]))
        else:
            if i2 > i1:
                parts.append(("delete", old[i1:i2]))
            if j2 > j1:
                parts.append(("insert", new[j1:j2]))
    return parts


def diff_html(old, new) -> SafeString:
    """``new`` compared with ``old``: unchanged text as is, removed text in ``<del>``,
    added text in ``<ins>``; every piece HTML-escaped."""
    html = []
    for op, text in diff_opcodes(_text(old), _text(new)):
        piece = escape(text, quote=False)
        if op == "delete":
            html.append(f"<del>{piece}</del>")
        elif op == "insert":
            html.append(f"<ins>{piece}</ins>")
        else:
            html.append(piece)
    return mark_safe("".join(html))  # noqa: S308 - every piece escaped above
