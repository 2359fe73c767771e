"""The access log: who opened or changed which document, when (issue 4).

Entries carry ids only (the ``detail`` names assignment, annotation or gold versions),
never patient text, so the log can be shown to researchers and kept for audits.
"""

from __future__ import annotations

from ..models import AccessAction, AccessLog, Document, Project

MAX_DETAIL_CHARS = 200  # AccessLog.detail's max_length


def access_record(*, user, project: Project, action: str, document: Document | None = None, detail: str = "") -> None:
    """Append one entry. ``action``: an :class:`AccessAction` value."""
    if action not in AccessAction.values:
        raise ValueError(f"unknown access action {action!r}")
    AccessLog.objects.create(
        project=project,
        document=document,
        user=user if user is not None and user.is_authenticated else None,
        action=action,
        detail=detail[:MAX_DETAIL_CHARS],
    )
