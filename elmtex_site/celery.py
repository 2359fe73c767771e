"""Celery application. Workers: `celery -A elmtex_site worker` consumes every queue."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "elmtex_site.settings")

app = Celery("elmtex_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
