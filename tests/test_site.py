"""Settings, deployment files and start-up behaviour."""

import os
import subprocess
import sys
from pathlib import Path

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, **env) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60
    )


def test_web_server_refuses_to_start_without_secret_key_in_production():
    result = _python(
        "import elmtex_site.wsgi", DJANGO_DEBUG="0", DATABASE_URL="sqlite:////tmp/elmtex-wsgi-check.sqlite3"
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_web_server_starts_with_secret_key():
    result = _python(
        "import elmtex_site.wsgi; print('ok')",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k" * 50,
        DATABASE_URL="sqlite:////tmp/elmtex-wsgi-check.sqlite3",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_default_database_is_sqlite_file_in_wal_mode(tmp_path):
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='elmtex_site.settings'; django.setup();"
        "from django.conf import settings; from django.db import connection;"
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); "
        "print(settings.DATABASES['default']['NAME'], c.fetchone()[0])"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    name, mode = result.stdout.split()
    assert name.endswith("var/elmtex.sqlite3")
    assert mode == "wal"


def test_database_url_is_honoured():
    result = _python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='elmtex_site.settings'; django.setup();"
        "from django.conf import settings; d = settings.DATABASES['default']; print(d['ENGINE'], d['HOST'], d['NAME'])",
        DATABASE_URL="postgres://u:p@db.example:5432/elmtex",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "db.example", "elmtex"]


def test_compose_file_wires_every_service():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "migrate"} <= set(services)
    for name in ("web", "worker", "migrate"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert "DJANGO_SECRET_KEY" in env
    assert services["worker"]["command"][:3] == ["celery", "-A", "elmtex_site"]
    assert services["web"]["command"][1] == "elmtex_site.wsgi:application"
    assert services["migrate"]["command"][1:3] == ["manage.py", "migrate"]


def test_compose_commands_exist():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for name, service in compose["services"].items():
        command = service.get("command")
        if not command or command[0] not in ("python", "celery", "gunicorn"):
            continue
        if command[0] == "python":
            assert command[1] == "manage.py" and command[2] in get_commands(), name
        elif command[0] == "gunicorn":
            module, attr = command[1].split(":")
            assert hasattr(__import__(module, fromlist=[attr]), attr) or module == "elmtex_site.wsgi"
            assert (ROOT / Path(*module.split("."))).with_suffix(".py").exists()
        else:
            from elmtex_site.celery import app

            assert app.main == "elmtex_site"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.txt" in dockerfile


def test_requirements_are_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line, f"unpinned requirement: {line}"
