"""Writing a command's output file (``--out PATH``, ``--json PATH``; ``-`` for stdout).

A file is written to a temporary file of its own next to the path, then renamed into
place: readers never see half a file, two writers to one path do not mix, and a failure
leaves whatever was there before. A symbolic link is followed (its target is written); a
path that is not a regular file (``/dev/null``, ``/dev/stdout``, a named pipe) is written
to directly, never replaced.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from typing import IO

from .errors import ApplicationError

BUFFER_BYTES = 1 << 20


def output_path_check(path: str, *, option: str = "--out") -> None:
    """Refuse a path that cannot be written (a directory, or in a missing directory);
    call it before the work, not after it."""
    if os.path.isdir(path):
        raise ApplicationError(f"{option}: {path} is a directory; give the path of a file to write")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ApplicationError(f"{option}: directory {directory} does not exist")


@contextlib.contextmanager
def atomic_text_output(path: str, *, option: str = "--out") -> Iterator[IO[str]]:
    """A text stream for ``path`` (``-``: standard output). The file appears only when
    the block ends without an exception; a write that fails is an ApplicationError
    naming ``option``."""
    if path == "-":
        with _stdout_output() as out:
            yield out
        return
    output_path_check(path, option=option)
    path = os.path.realpath(path)  # a symbolic link: write its target, keep the link
    if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
        with _direct_output(path, option=option) as out:
            yield out
        return
    directory = os.path.dirname(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".partial", dir=directory)
    except OSError as exc:
        raise ApplicationError(f"{option}: cannot write {path}: {exc.strerror}") from None
    try:
        with open(fd, "w", encoding="utf-8", newline="", buffering=BUFFER_BYTES) as fh:
            yield fh
        # mkstemp creates the file readable by its owner only; give it the usual mode.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise ApplicationError(f"{option}: cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _remove(tmp)
        raise


@contextlib.contextmanager
def _direct_output(path: str, *, option: str) -> Iterator[IO[str]]:
    """A device or a named pipe: written in place (there is nothing to rename)."""
    try:
        fh = open(path, "w", encoding="utf-8", newline="", buffering=BUFFER_BYTES)  # noqa: SIM115
    except OSError as exc:
        raise ApplicationError(f"{option}: cannot write {path}: {exc.strerror}") from None
    try:
        with fh:
            yield fh
    except BrokenPipeError:
        sys.exit(1)  # the reader of the pipe went away
    except OSError as exc:
        raise ApplicationError(f"{option}: cannot write {path}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _stdout_output() -> Iterator[IO[str]]:
    try:
        yield sys.stdout
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``... --out - | head``): stop quietly, as Python's
        # documentation advises, with stdout pointed at devnull so that the
        # interpreter's last flush at exit does not fail again.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
