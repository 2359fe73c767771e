"""The language of a report selection, checked once for every report: a language code
(so nothing odd reaches a query) that some document of the project has."""

from __future__ import annotations

from annotation.models import Document, Project
from annotation.pipeline.records import check_language
from elmtex_site.errors import ApplicationError, Problem


def selection_language_check(*, project: Project, language: str | None) -> str | None:
    """The language (None for "any"); ApplicationError naming ``language`` otherwise."""
    language = (language or "").strip() or None
    if language is None:
        return None
    problem = check_language(language)
    if problem is None and not Document.objects.filter(project=project, language=language).exists():
        known = Document.objects.filter(project=project).order_by().values_list("language", flat=True).distinct()
        choices = ", ".join(sorted(known)) or "none (the project has no documents)"
        problem = f"no document of the project is in language {language!r}; choose from {choices}"
    if problem:
        raise ApplicationError(f"language: {problem}", problems=[Problem(problem, field="language")])
    return language
