"""One error shape for every refused API request, DRF's own refusals included, and the
health check's answer when the database is down."""

from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import OperationalError, connection
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.test import APIClient

from elmtex_site.api_errors import exception_handler
from tests.factories import DocumentFactory, UserFactory

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "errors", "error_count"}, body
    assert body["detail"] and body["error_count"] == len(body["errors"]) >= 1
    for problem in body["errors"]:
        assert set(problem) == {"file", "record", "line", "field", "message", "text"}
        assert problem["message"]
    return body


def test_not_authenticated_is_401_with_the_error_shape_and_challenge(api_client, project):
    response = api_client.get("/api/projects/")
    body = assert_error_shape(response, 401)
    assert response["WWW-Authenticate"].startswith("Token")
    assert "credentials were not provided" in body["detail"]
    assert "Token" in body["detail"]  # says what to do


def test_bad_token_is_401_with_the_error_shape(api_client, project):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    body = assert_error_shape(api_client.get("/api/projects/"), 401)
    assert "Invalid token" in body["detail"]


def test_missing_csrf_token_is_403_with_the_error_shape(project, researcher):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(researcher)
    response = client.post("/api/projects/p1/members/", {"username": "res", "role": "annotator"}, format="json")
    body = assert_error_shape(response, 403)
    assert "CSRF" in body["detail"] and "X-CSRFToken" in body["detail"]


def test_bad_page_number_is_404_with_the_error_shape(api_client, project, reviewer):
    DocumentFactory(project=project)
    api_client.force_authenticate(reviewer)
    body = assert_error_shape(api_client.get("/api/projects/p1/documents/", {"page": "abc"}), 404)
    assert "Invalid page" in body["detail"]


def test_method_not_allowed_is_405_with_the_error_shape(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    response = api_client.put("/api/projects/p1/", {}, format="json")
    body = assert_error_shape(response, 405)
    assert "PUT" in body["detail"] and "GET" in body["detail"]
    assert "GET" in response["Allow"]


def test_unsupported_media_type_is_415_with_the_error_shape(api_client):
    api_client.force_authenticate(UserFactory(is_staff=True))
    response = api_client.post("/api/projects/", {"slug": "form", "name": "Form"}, format="multipart")
    body = assert_error_shape(response, 415)
    assert "application/json" in body["detail"]


def test_malformed_json_is_400_with_the_error_shape(api_client):
    api_client.force_authenticate(UserFactory(is_staff=True))
    response = api_client.post("/api/projects/", data=b'{"slug": "x", ', content_type="application/json")
    body = assert_error_shape(response, 400)
    assert "JSON parse error" in body["detail"]


@pytest.mark.parametrize(
    ("exc", "status", "words"),
    [
        (Http404("no such thing"), 404, "no such thing"),
        (DjangoPermissionDenied("not yours"), 403, "not yours"),
        (exceptions.Throttled(wait=7), 429, "throttled"),
        (serializers.ValidationError({"name": ["This field is required."]}), 400, "name: This field is required."),
        (serializers.ValidationError("flat message"), 400, "flat message"),
    ],
)
def test_every_drf_error_gets_the_shape(rf, exc, status, words):
    response = exception_handler(exc, {"request": rf.get("/api/x/"), "view": None})
    assert response.status_code == status
    assert set(response.data) == {"detail", "errors", "error_count"}
    assert words in response.data["detail"]
    if status == 429:
        assert response["Retry-After"] == "7"
    if isinstance(exc, serializers.ValidationError) and isinstance(exc.detail, dict):
        assert response.data["errors"][0]["field"] == "name"


def test_health_answers_503_json_when_the_database_does_not_answer(api_client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        response = api_client.get("/api/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and "database" in body["detail"]
    assert "connection refused" not in response.content.decode()  # no internals to anonymous callers
    assert api_client.get("/api/health/").json() == {"status": "ok"}
