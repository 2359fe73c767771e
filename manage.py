#!/usr/bin/env python
"""Django's command-line utility for the ELMTEX platform."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "elmtex_site.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A bad setting (e.g. an unknown DATABASE_URL scheme): one line, no traceback.
        message = " ".join(str(exc).split())
        sys.stderr.write(f"error: configuration: {message}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
