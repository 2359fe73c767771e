import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "elmtex_site.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402

if not settings.DEBUG and not settings.SECRET_KEY_FROM_ENV:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set: the web server refuses to start without it in production. "
        "Set it to a long random string, or set DJANGO_DEBUG=1 for a local development server."
    )
