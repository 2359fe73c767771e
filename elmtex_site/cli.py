"""Base class for management commands: CLI.md's error lines and exit codes.

Exit 0 success, 1 invalid input or refused operation (problems printed as ``error:``
lines on stderr), 2 usage error (argparse). A traceback never reaches the user: an
unexpected failure is reported in one line and its traceback saved to a file under
``var/log/`` (the console log handler writes to stderr, so it must not get it).
"""

import contextlib
import logging
import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.utils import OperationalError

from .errors import ApplicationError
from .logs import frames_only

logger = logging.getLogger("elmtex.cli")


def migrate_if_needed() -> None:
    """Apply pending migrations to a local SQLite database (ELMTEX_AUTO_MIGRATE)."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    if not getattr(settings, "ELMTEX_AUTO_MIGRATE", False):
        return
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        sys.stderr.write("setting up the database (migrate)...\n")
        call_command("migrate", interactive=False, verbosity=0)


def save_traceback() -> str | None:
    """Write the traceback of the exception being handled to a new file; return its path."""
    from django.conf import settings

    directory = Path(getattr(settings, "VAR_DIR", tempfile.gettempdir())) / "log"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix="error-", suffix=".log", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(frames_only(sys.exc_info()[1]))
    except OSError:
        return None
    return path


def database_error_line(exc: OperationalError) -> str:
    """One ``error:`` line for a database that cannot be used right now."""
    from django.db import connection

    detail = " ".join(str(exc).split())[:300]
    if connection.vendor == "sqlite" and "locked" in detail:
        return (
            "error: the SQLite database is busy (another process is writing to it); try again when it "
            "has finished, or use PostgreSQL (DATABASE_URL) for concurrent work; nothing was written"
        )
    where = connection.settings_dict.get("HOST") or connection.settings_dict.get("NAME")
    return (
        f"error: the database ({connection.vendor} at {where}) cannot be used: {detail}; "
        "check DATABASE_URL and that the server is running; nothing was written"
    )


def input_open(path: str):
    """``(stream, size or None, name)`` of an input file argument; ``-`` is standard input.
    The caller closes a stream that is not stdin. A missing or unreadable file is an
    ApplicationError naming it."""
    if path == "-":
        return sys.stdin.buffer, None, "<stdin>"
    try:
        size = os.path.getsize(path)
        return open(path, "rb"), size, path  # noqa: SIM115 - the caller closes it
    except IsADirectoryError:
        raise ApplicationError(f"{path}: is a directory, expected a file") from None
    except OSError as exc:
        raise ApplicationError(f"{path}: cannot read the file: {exc.strerror}") from None


class ElmtexCommand(BaseCommand):
    def execute(self, *args, **options):
        if not getattr(self, "_called_from_command_line", False):
            return super().execute(*args, **options)
        try:
            if getattr(self, "uses_database", True):  # a command that needs no database skips migrations
                migrate_if_needed()
            return super().execute(*args, **options)
        except ApplicationError as exc:
            for line in exc.lines():
                sys.stderr.write(line + "\n")
            sys.exit(1)
        except CommandError as exc:
            sys.stderr.write(f"error: {exc}\n")
            sys.exit(getattr(exc, "returncode", 1) or 1)
        except OperationalError as exc:
            sys.stderr.write(database_error_line(exc) + "\n")
            sys.exit(1)
        except KeyboardInterrupt:
            sys.stderr.write("error: interrupted; nothing was written by the unfinished step\n")
            sys.exit(1)
        except BrokenPipeError:
            # The reader of stdout went away (``... | head``): stop quietly, with stdout on
            # devnull so the interpreter's last flush does not fail again.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except Exception as exc:  # noqa: BLE001 - the last guard before the user
            path = save_traceback()
            logger.debug("command %s failed", self.__class__.__module__, exc_info=True)
            detail = " ".join(str(exc).split())[:500]
            where = f"the traceback is in {path}" if path else "run with DJANGO_LOG_LEVEL=DEBUG for details"
            sys.stderr.write(
                f"error: unexpected failure ({type(exc).__name__}): {detail}; nothing was committed; {where}\n"
            )
            sys.exit(1)
