"""Settings for the test run: PostgreSQL when DATABASE_URL is set (CI), else SQLite."""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
ELMTEX_AUTO_MIGRATE = False

# Inference: retries back off for milliseconds, --wait looks for workers briefly.
ELMTEX_RETRY_BASE_DELAY = 0.01
ELMTEX_RETRY_MAX_WAIT = 1.0
ELMTEX_WORKER_WAIT_SECONDS = 2.0
# An SQLite test database in a file (one per test process), not in memory, so that a
# Celery worker started by tests/inference/test_integration_worker.py can open it too.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
# Tests that exercise the embedding cache point it at a temporary folder themselves.
ELMTEX_EMBEDDING_CACHE_DIR = ""
# Tests that want the candidate checks after a run turn them on themselves.
ELMTEX_CHECK_CANDIDATES_ON_FINISH = False
