"""Celery application. Workers: `celery -A elmtex_site worker` consumes every queue
(`inference`, `evaluation`, `gpu`) unless told otherwise with `-Q`."""

import os

from celery import Celery, signals

from .logs import celery_logging_redact

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "elmtex_site.settings")

QUEUES = ("inference", "evaluation", "gpu")


class ElmtexCelery(Celery):
    """Celery that starts the embedded Redis (broker fallback) when a connection needs it.

    Every broker connection, producing or consuming, is made here, so whichever process
    first talks to the broker (worker, web server, command) starts it; settings never do.
    """

    def _connection(self, url, *args, **kwargs):
        # Imported here, not at the top: `python -m elmtex_site.broker` would otherwise find
        # its own module imported already (by elmtex_site/__init__.py) and warn.
        from .broker import embedded_redis_ensure_for_url

        embedded_redis_ensure_for_url(url)
        return super()._connection(url, *args, **kwargs)


app = ElmtexCelery("elmtex_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Workers log ids, never patient text: tracebacks without messages, failure lines without
# the exception's repr (elmtex_site/logs.py).
signals.after_setup_logger.connect(celery_logging_redact, weak=False)
signals.after_setup_task_logger.connect(celery_logging_redact, weak=False)
