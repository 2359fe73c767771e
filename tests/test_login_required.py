"""Every page needs a login, except login itself and the API health check."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

SAMPLE_ARGS = {"int": "1", "slug": "p1", "str": "someone", "path": "x"}
OPEN = {"/accounts/login/", "/api/health/"}


def _walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(("admin/", "api/")):
            continue  # admin: Django's staff login; api: walked in tests/annotation/test_api.py (401)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield "/" + re.sub(r"<(\w+):\w+>", lambda m: SAMPLE_ARGS[m.group(1)], route)


PAGES = sorted(set(_walk(get_resolver().url_patterns)) - OPEN - {"/accounts/logout/"})


def test_the_walk_finds_the_pages():
    assert {"/", "/p/p1/", "/p/p1/documents/", "/p/p1/import/", "/p/p1/export/"} <= set(PAGES)


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302, url
    assert response["Location"].startswith("/accounts/login/")
