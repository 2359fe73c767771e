"""Base class for management commands: CLI.md's error lines and exit codes.

Exit 0 success, 1 invalid input or refused operation (problems printed as ``error:``
lines on stderr), 2 usage error (argparse). A traceback never reaches the user: an
unexpected failure is logged and reported in one line.
"""

import logging
import sys

from django.core.management.base import BaseCommand, CommandError

from .errors import ApplicationError

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


class ElmtexCommand(BaseCommand):
    def execute(self, *args, **options):
        if not getattr(self, "_called_from_command_line", False):
            return super().execute(*args, **options)
        try:
            migrate_if_needed()
            return super().execute(*args, **options)
        except ApplicationError as exc:
            for line in exc.lines():
                sys.stderr.write(line + "\n")
            sys.exit(1)
        except CommandError as exc:
            sys.stderr.write(f"error: {exc}\n")
            sys.exit(getattr(exc, "returncode", 1) or 1)
        except KeyboardInterrupt:
            sys.stderr.write("error: interrupted; nothing was written by the unfinished step\n")
            sys.exit(1)
        except Exception as exc:  # noqa: BLE001 - the last guard before the user
            logger.exception("command %s failed", self.__class__.__module__)
            sys.stderr.write(
                f"error: unexpected failure ({type(exc).__name__}): {exc}; "
                "nothing was committed; see the log for details\n"
            )
            sys.exit(1)
