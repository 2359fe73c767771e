"""Settings, deployment files and start-up behaviour."""

import importlib
import os
import socket
import subprocess
import sys
import time
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
    result = _python("import elmtex_site.wsgi", DJANGO_DEBUG="0", DATABASE_URL="sqlite:///:memory:")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_web_server_starts_with_secret_key():
    result = _python(
        "import elmtex_site.wsgi; print('ok')",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k" * 50,
        DATABASE_URL="sqlite:///:memory:",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_default_database_is_the_sqlite_file_under_var():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='elmtex_site.settings'; django.setup();"
        "from django.conf import settings; print(settings.DATABASES['default']['NAME'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(ROOT / "var" / "elmtex.sqlite3")


def test_sqlite_databases_run_in_wal_mode(tmp_path):
    result = _python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='elmtex_site.settings'; django.setup();"
        "from django.db import connection; c = connection.cursor(); c.execute('PRAGMA journal_mode');"
        "print(c.fetchone()[0])",
        DATABASE_URL=f"sqlite:///{tmp_path / 'wal.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wal"


def test_malformed_settings_are_one_error_line(tmp_path):
    env = dict(os.environ, ELMTEX_IMPORT_MAX_BYTES="lots", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    result = subprocess.run(
        [sys.executable, "manage.py", "export_gold", "p", "--out", "-"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: configuration: environment variable ELMTEX_IMPORT_MAX_BYTES is not a valid int "
        "(invalid literal for int() with base 10: 'lots')"
    ]
    env["ELMTEX_IMPORT_MAX_BYTES"] = "10"
    env["DATABASE_URL"] = "mysql://u@h/db"
    result = subprocess.run(
        [sys.executable, "manage.py", "export_gold", "p", "--out", "-"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and "DATABASE_URL must be postgres://" in result.stderr


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
    """Every command compose.yaml runs exists in this code base."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    commands = {name: service["command"] for name, service in compose["services"].items() if "command" in service}
    for name, command in commands.items():
        if command[0] == "python":
            assert command[1] == "manage.py" and command[2] in get_commands(), name
        elif command[0] == "gunicorn":
            module, attr = command[1].split(":")
            assert callable(getattr(importlib.import_module(module), attr)), name
        elif command[0] == "celery":
            app = importlib.import_module(command[2]).celery_app
            assert app.main == "elmtex_site"
            assert command[command.index("-Q") + 1].split(",") == ["inference", "evaluation", "gpu"]
    assert "requirements.txt" in (ROOT / "Dockerfile").read_text()


def test_compose_healthcheck_sends_an_allowed_host():
    """The web healthcheck must pass once DJANGO_ALLOWED_HOSTS names the real host."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    test = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    assert "DJANGO_ALLOWED_HOSTS" in test and "/api/health/" in test


def test_requirements_are_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line, f"unpinned requirement: {line}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_serves_health_to_the_compose_healthcheck(tmp_path):
    """The web service's command and healthcheck, run as compose runs them (without Docker)."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    web = compose["services"]["web"]
    port = _free_port()
    command = [part.replace("0.0.0.0:8000", f"127.0.0.1:{port}") for part in web["command"]]
    command[0] = str(Path(sys.executable).with_name("gunicorn"))
    env = dict(
        os.environ,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="s" * 50,
        DJANGO_ALLOWED_HOSTS="elmtex.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'web.sqlite3'}",
    )
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        check = web["healthcheck"]["test"][3].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        while True:
            result = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True)
            if result.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert result.returncode == 0, result.stderr
        # A host that is not allowed is refused, so the healthcheck really depends on the header.
        refused = subprocess.run(
            [sys.executable, "-c", check.replace("headers={'Host': host}", "headers={'Host': 'evil.example'}")],
            env=env,
            capture_output=True,
            text=True,
        )
        assert refused.returncode != 0 and "400" in refused.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)
