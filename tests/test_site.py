"""Settings, deployment files and start-up behaviour."""

import os
import subprocess
import sys
from pathlib import Path

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


def test_requirements_are_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line, f"unpinned requirement: {line}"


def test_the_web_process_starts_without_the_heavy_libraries():
    # STYLE.md rule 4: metric and client libraries load in the function that needs them.
    import subprocess
    import sys

    code = (
        "import sys, django; django.setup(); import elmtex_site.urls, elmtex_site.wsgi; "
        "print(','.join(m for m in ('nltk', 'scipy', 'numpy', 'rouge_score', 'rapidfuzz', 'huggingface_hub') "
        "if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "elmtex_site.settings_test"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == ""
