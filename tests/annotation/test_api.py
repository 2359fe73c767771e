"""The REST API (``/api/``): who may call what, and that it does what the commands do."""

import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import reset_generator_stats
from rest_framework.authtoken.models import Token

from tests.factories import DocumentFactory, GoldFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- every URL needs a login ------------------------------------------------------------

SAMPLE_ARGS = {"int": "1", "slug": "p1", "str": "someone", "path": "x"}


def _walk(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route


def api_urls() -> list[str]:
    """Every route under /api/, with sample values for its path arguments."""
    urls = []
    for route in _walk(get_resolver().url_patterns):
        if not route.startswith("api/"):
            continue
        assert "^" not in route, f"regex route {route!r}: give it a sample in SAMPLE_ARGS"
        urls.append("/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGS[m.group(1) or "str"], route))
    return urls


API_URLS = api_urls()


def test_url_walk_finds_the_whole_api():
    for url in [
        "/api/health/",
        "/api/schema/",
        "/api/docs/",
        "/api/redoc/",
        "/api/projects/",
        "/api/projects/p1/imports/",
        "/api/projects/p1/documents/1/gold/",
    ]:
        assert url in API_URLS


@pytest.mark.parametrize("url", [u for u in API_URLS if u != "/api/health/"])
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_anonymous_is_refused_everywhere(api_client, project, url, method):
    response = getattr(api_client, method)(url)
    assert response.status_code in (401, 403), (url, method, response.status_code)
    assert "p1" not in response.content.decode()


def test_health_is_open_without_login(api_client):
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_schema_and_docs_open_after_login(api_client, researcher, url):
    api_client.force_authenticate(researcher)
    assert api_client.get(url).status_code == 200


def test_token_authentication(api_client, researcher):
    token = Token.objects.create(user=researcher)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api_client.get("/api/projects/")
    assert response.status_code == 200
    assert [p["slug"] for p in response.json()["results"]] == ["p1"]

    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api_client.get("/api/projects/").status_code in (401, 403)


def test_session_login(api_client, researcher):
    assert api_client.login(username="res", password="pw-123456")
    assert api_client.get("/api/projects/p1/").status_code == 200


# --- role x endpoint matrix -------------------------------------------------------------

ROLES = ["researcher", "reviewer", "annotator", "outsider", "staff"]


def _upload():
    body = json.dumps([{"patient_id": "new-1", "report": "A new case."}]).encode()
    return {"file": SimpleUploadedFile("cases.json", body, content_type="application/json")}


# name: (method, url, body or a callable making it, format, {role: status})
MATRIX = {
    "project-list": ("get", "/api/projects/", None, None, dict.fromkeys(ROLES, 200)),
    "project-create": (
        "post",
        "/api/projects/",
        {"slug": "p9", "name": "Nine"},
        "json",
        {"researcher": 403, "reviewer": 403, "annotator": 403, "outsider": 403, "staff": 201},
    ),
    "project-detail": (
        "get",
        "/api/projects/p1/",
        None,
        None,
        {"researcher": 200, "reviewer": 200, "annotator": 200, "outsider": 404, "staff": 200},
    ),
    "categories": (
        "get",
        "/api/projects/p1/categories/",
        None,
        None,
        {"researcher": 200, "reviewer": 200, "annotator": 200, "outsider": 404, "staff": 200},
    ),
    "members-list": (
        "get",
        "/api/projects/p1/members/",
        None,
        None,
        {"researcher": 200, "reviewer": 403, "annotator": 403, "outsider": 404, "staff": 200},
    ),
    "members-add": (
        "post",
        "/api/projects/p1/members/",
        {"username": "outsider", "role": "annotator"},
        "json",
        {"researcher": 201, "reviewer": 403, "annotator": 403, "outsider": 404, "staff": 201},
    ),
    # Creating an account is platform-wide: staff or auth.add_user, not a project right.
    "members-create": (
        "post",
        "/api/projects/p1/members/",
        {"username": "newbie", "role": "annotator", "create": True},
        "json",
        {"researcher": 403, "reviewer": 403, "annotator": 403, "outsider": 404, "staff": 201},
    ),
    "members-remove": (
        "delete",
        "/api/projects/p1/members/extra/",
        None,
        None,
        {"researcher": 204, "reviewer": 403, "annotator": 403, "outsider": 404, "staff": 204},
    ),
    "documents": (
        "get",
        "/api/projects/p1/documents/",
        None,
        None,
        {"researcher": 200, "reviewer": 200, "annotator": 403, "outsider": 404, "staff": 200},
    ),
    "document-detail": (
        "get",
        "/api/projects/p1/documents/{doc}/",
        None,
        None,
        {"researcher": 200, "reviewer": 200, "annotator": 403, "outsider": 404, "staff": 200},
    ),
    "gold": (
        "get",
        "/api/projects/p1/documents/{doc}/gold/",
        None,
        None,
        {"researcher": 200, "reviewer": 200, "annotator": 403, "outsider": 404, "staff": 200},
    ),
    "import": (
        "post",
        "/api/projects/p1/imports/",
        _upload,
        "multipart",
        {"researcher": 201, "reviewer": 403, "annotator": 403, "outsider": 404, "staff": 201},
    ),
}


@pytest.fixture
def people(project, researcher, reviewer, annotator, outsider, make_member):
    make_member(project, "annotator", "extra")
    return {
        "researcher": researcher,
        "reviewer": reviewer,
        "annotator": annotator,
        "outsider": outsider,
        "staff": UserFactory(username="admin", is_staff=True),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_permission_matrix(api_client, project, people, endpoint, role):
    method, url, body, fmt, expected = MATRIX[endpoint]
    doc = GoldFactory(document__project=project).document
    api_client.force_authenticate(people[role])
    kwargs = {"format": fmt} if fmt else {}
    if body is not None:
        kwargs["data"] = body() if callable(body) else body
    response = getattr(api_client, method)(url.format(doc=doc.pk), **kwargs)
    assert response.status_code == expected[role], response.content
    if response.status_code in (403, 404):
        error = response.json()
        assert error["detail"] and error["errors"] and error["error_count"] == 1


def test_outsider_cannot_tell_a_project_exists(api_client, project, outsider):
    api_client.force_authenticate(outsider)
    hidden = api_client.get("/api/projects/p1/documents/")
    missing = api_client.get("/api/projects/nope/documents/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace("'p1'", "'nope'") == missing.json()["detail"]


def test_member_of_one_project_sees_nothing_of_another(api_client, researcher):
    other = ProjectFactory(slug="other")
    doc = DocumentFactory(project=other)
    api_client.force_authenticate(researcher)
    assert api_client.get(f"/api/projects/other/documents/{doc.pk}/").status_code == 404
    # A document id of another project, under a project the user belongs to.
    assert api_client.get(f"/api/projects/p1/documents/{doc.pk}/").status_code == 404
    assert api_client.get(f"/api/projects/p1/documents/{doc.pk}/gold/").status_code == 404


# --- OpenAPI ----------------------------------------------------------------------------


def test_openapi_schema_validates_without_warnings(tmp_path):
    reset_generator_stats()
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stdout=io.StringIO())
    text = out.read_text()
    for path in [
        "/api/projects/{slug}/imports/",
        "/api/projects/{slug}/documents/{id}/gold/",
        "/api/projects/{slug}/members/{username}/",
    ]:
        assert f"{path}:" in text
