"""The endpoint API (``/api/endpoints/``): who may see and register model endpoints."""

import pytest

from inference.models import ModelEndpoint
from tests.factories import EndpointFactory, MembershipFactory, ProjectFactory, UserFactory
from tests.inference.run_helpers import ROLES

pytestmark = pytest.mark.django_db

# Endpoints are global: a project role anywhere decides, and users of no project
# ("outsider") get 403 rather than 404 (there is no project to hide).
SEE = {"researcher": 200, "reviewer": 200, "annotator": 403, "outsider": 403, "staff": 200}
ADD = {"researcher": 201, "reviewer": 403, "annotator": 403, "outsider": 403, "staff": 201}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ["list", "detail", "add"])
def test_permission_matrix(api_client, people, role, route, baseline_server):
    EndpointFactory(name="tgi-a", base_url="http://127.0.0.1:9")
    api_client.force_authenticate(people[role])
    if route == "list":
        response, expected = api_client.get("/api/endpoints/"), SEE
    elif route == "detail":
        response, expected = api_client.get("/api/endpoints/tgi-a/"), SEE
    else:
        body = {"name": "new-one", "url": baseline_server()}
        response, expected = api_client.post("/api/endpoints/", body, format="json"), ADD
    assert response.status_code == expected[role], response.content
    if response.status_code == 403:
        assert "staff" in response.json()["detail"]
        assert "127.0.0.1" not in response.content.decode()


@pytest.mark.parametrize("url", ["/api/endpoints/", "/api/endpoints/tgi-a/"])
def test_anonymous_gets_401(api_client, url):
    EndpointFactory(name="tgi-a")
    assert api_client.get(url).status_code == 401
    assert api_client.post(url, {"name": "x", "url": "http://127.0.0.1:9"}, format="json").status_code == 401
    assert ModelEndpoint.objects.count() == 1


def test_a_researcher_of_any_project_may_register(api_client, baseline_server):
    user = UserFactory(username="elsewhere")
    MembershipFactory(project=ProjectFactory(slug="other"), user=user, role="researcher")
    api_client.force_authenticate(user)
    response = api_client.post("/api/endpoints/", {"name": "mine", "url": baseline_server()}, format="json")
    assert response.status_code == 201
    assert ModelEndpoint.objects.get(name="mine").created_by == user


def test_list_and_detail_show_the_endpoint(api_client, researcher):
    EndpointFactory(name="b-end", base_url="http://127.0.0.1:9", model_id="org/m", concurrency=3)
    EndpointFactory(name="a-end")
    api_client.force_authenticate(researcher)
    listed = api_client.get("/api/endpoints/").json()
    assert [e["name"] for e in listed["results"]] == ["a-end", "b-end"]
    detail = api_client.get("/api/endpoints/b-end/").json()
    assert detail["url"] == "http://127.0.0.1:9"
    assert (detail["model_id"], detail["mode"], detail["concurrency"]) == ("org/m", "chat", 3)
    assert detail["info"]["max_concurrent_requests"] == 5


def test_an_unknown_endpoint_is_not_found(api_client, researcher):
    api_client.force_authenticate(researcher)
    response = api_client.get("/api/endpoints/nope/")
    assert response.status_code == 404
    assert "endpoint 'nope' does not exist" in response.json()["detail"]


def test_register_reads_info_and_re_adding_updates(api_client, researcher, baseline_server):
    api_client.force_authenticate(researcher)
    first = api_client.post(
        "/api/endpoints/", {"name": "base", "url": baseline_server(max_concurrent=10)}, format="json"
    )
    assert first.status_code == 201
    assert first.json()["concurrency"] == 8  # 80% of max_concurrent_requests
    assert first.json()["info"]["max_concurrent_requests"] == 10
    body = {"name": "base", "url": baseline_server(), "mode": "generate", "concurrency": 2, "model_id": "my/model"}
    again = api_client.post("/api/endpoints/", body, format="json")
    assert again.status_code == 200
    assert (again.json()["mode"], again.json()["concurrency"], again.json()["model_id"]) == ("generate", 2, "my/model")
    assert ModelEndpoint.objects.count() == 1


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"url": "http://127.0.0.1:9"}, "name: This field is required"),
        ({"name": "x", "url": "ftp://host"}, "endpoint URL 'ftp://host' is not valid"),
        ({"name": "bad name", "url": "{url}"}, "is not valid"),
        ({"name": "x", "url": "{url}", "mode": "stream"}, "mode"),
        ({"name": "x", "url": "{url}", "concurrency": 0}, "concurrency"),
    ],
)
def test_register_refusals_name_the_problem(api_client, researcher, baseline_server, body, fragment):
    url = baseline_server()
    body = {k: (v.format(url=url) if isinstance(v, str) else v) for k, v in body.items()}
    api_client.force_authenticate(researcher)
    response = api_client.post("/api/endpoints/", body, format="json")
    assert response.status_code == 400
    assert fragment in response.json()["detail"]
    assert not ModelEndpoint.objects.exists()


def test_an_unreachable_server_is_refused(api_client, researcher):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    api_client.force_authenticate(researcher)
    response = api_client.post("/api/endpoints/", {"name": "gone", "url": url}, format="json")
    assert response.status_code == 400
    assert "did not answer GET /info" in response.json()["detail"]
    assert not ModelEndpoint.objects.exists()
