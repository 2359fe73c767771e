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
