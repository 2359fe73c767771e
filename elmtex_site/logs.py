"""Logging that carries ids, never patient text.

Exception messages (a database error can quote a row; a parser error can quote a
report) are withheld: a logged traceback keeps its frames and exception types only.
"""

import logging
import traceback


def frames_only(exc: BaseException | None) -> str:
    """The traceback of ``exc`` and its causes, without their messages."""
    blocks = []
    while exc is not None:
        frames = "".join(traceback.format_tb(exc.__traceback__))
        blocks.append(f"{frames}{type(exc).__module__}.{type(exc).__qualname__} (message withheld from the log)\n")
        exc = exc.__cause__ or exc.__context__
    return "\nwhile handling the above, another exception occurred:\n\n".join(reversed(blocks))


class IdsOnlyFormatter(logging.Formatter):
    """A formatter whose tracebacks hold no exception messages."""

    def formatException(self, ei):  # noqa: N802 - logging's API
        return "Traceback (most recent call last):\n" + frames_only(ei[1]).rstrip("\n")


class TaskFailureRedactor(logging.Filter):
    """Celery's task-failure line (``celery.app.trace``) puts ``repr(exception)`` into the
    message itself; keep the exception type only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict) and "exc" in record.args:
            exc = record.exc_info[1] if record.exc_info else None
            kind = type(exc).__name__ if exc is not None else "exception"
            record.args = {**record.args, "exc": f"{kind} (message withheld from the log)", "traceback": ""}
        return True


def celery_logging_redact(logger: logging.Logger, **_ignored) -> None:
    """Give the handlers Celery set up on ``logger`` our formatter (same format string),
    and redact task-failure lines. Connected to Celery's after_setup_*logger signals."""
    for handler in logger.handlers:
        fmt = handler.formatter._fmt if handler.formatter else None
        handler.setFormatter(IdsOnlyFormatter(fmt))
    trace_logger = logging.getLogger("celery.app.trace")
    if not any(isinstance(f, TaskFailureRedactor) for f in trace_logger.filters):
        trace_logger.addFilter(TaskFailureRedactor())
