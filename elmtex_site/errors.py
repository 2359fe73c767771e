"""The one application error type (STYLE.md rule 5).

Services raise :class:`ApplicationError` for every rule violation and bad input. The CLI
prints its problems as ``error: ...`` lines and exits 1; the API maps it to a 400 (or
the status it carries) with the same problems as JSON. Nothing else reaches a user.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    message: str
    file: str | None = None
    record: int | None = None  # 1-based record number
    line: int | None = None  # 1-based physical line
    field: str | None = None  # dotted field path, e.g. "summary.diagnosis"

    def format(self) -> str:
        """The CLI.md line: ``error: <file>: record <N> (line <L>): <field>: <problem>``."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.record is not None:
            where = f"record {self.record}"
            if self.line is not None:
                where += f" (line {self.line})"
            parts.append(where)
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return "error: " + ": ".join(parts)

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "record": self.record,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "text": self.format()[len("error: ") :],
        }


MAX_LISTED_PROBLEMS = 20


class ApplicationError(Exception):
    """A refused operation or invalid input; nothing was written."""

    def __init__(
        self, message: str, *, problems: list[Problem] | None = None, total: int | None = None, status: int = 400
    ):
        super().__init__(message)
        self.message = message
        self.problems = problems or [Problem(message)]
        self.total = total if total is not None else len(self.problems)
        self.status = status

    def lines(self) -> list[str]:
        """At most 20 problem lines, then ``error: ... and K more``."""
        shown = [p.format() for p in self.problems[:MAX_LISTED_PROBLEMS]]
        if self.total > len(shown):
            shown.append(f"error: ... and {self.total - len(shown)} more")
        return shown

    def as_dict(self) -> dict:
        return {
            "detail": self.message,
            "errors": [p.as_dict() for p in self.problems[:MAX_LISTED_PROBLEMS]],
            "error_count": self.total,
        }


class NotFound(ApplicationError):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message, problems=[Problem(message, field=field)], status=404)


class PermissionDenied(ApplicationError):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message, problems=[Problem(message, field=field)], status=403)


class Conflict(ApplicationError):
    """A save based on a version someone else has already replaced (optimistic locking)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message, problems=[Problem(message, field=field)], status=409)


class ProblemCollector:
    """Collects the problems of one input file (all-or-nothing imports read the whole
    file before refusing it); keeps the first few, counts all."""

    def __init__(self, file: str):
        self.file = file
        self.kept: list[Problem] = []
        self.total = 0

    def add(self, message: str, *, record=None, line=None, field=None) -> None:
        self.total += 1
        if len(self.kept) < MAX_LISTED_PROBLEMS:
            self.kept.append(Problem(message, file=self.file, record=record, line=line, field=field))

    def raise_if_any(self) -> None:
        if self.total:
            first = self.kept[0].format()[len("error: ") :]
            summary = first if self.total == 1 else f"{self.total} problems; the first: {first}"
            raise ApplicationError(
                f"import refused, nothing was written: {summary}", problems=self.kept, total=self.total
            )
