"""API: projects, categories and members."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation.models import Category, Membership, Project
from annotation.schema import ELMTEX_KEYS
from tests.factories import DocumentFactory, GoldFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- projects ---------------------------------------------------------------------------


def test_project_list_shows_role_and_counts(api_client, project, annotator):
    GoldFactory(document__project=project)
    DocumentFactory(project=project)
    ProjectFactory(slug="not-mine")
    api_client.force_authenticate(annotator)
    results = api_client.get("/api/projects/").json()["results"]
    assert results == [
        {
            "slug": "p1",
            "name": "Project one",
            "description": "",
            "created_at": results[0]["created_at"],
            "role": "annotator",
            "category_count": 15,
            "document_count": 2,
            "gold_count": 1,
        }
    ]


def test_project_list_queries_do_not_grow_with_projects(api_client):
    staff = UserFactory(is_staff=True)
    api_client.force_authenticate(staff)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get("/api/projects/").status_code == 200
        return len(ctx.captured_queries)

    p = ProjectFactory()
    GoldFactory(document__project=p)
    few = queries()
    for _ in range(5):
        p = ProjectFactory()
        MembershipFactory(project=p)
        GoldFactory.create_batch(2, document__project=p)
    assert queries() == few
    assert {r["role"] for r in api_client.get("/api/projects/").json()["results"]} == {"staff"}


def test_project_detail_counts_and_coverage(api_client, project, researcher, annotator):
    GoldFactory(document__project=project, document__split="test")
    GoldFactory(document__project=project, document__split="test", values={"diagnosis": "pneumonia"})
    DocumentFactory(project=project, language="de")
    api_client.force_authenticate(researcher)
    body = api_client.get("/api/projects/p1/").json()
    assert body["role"] == "researcher"
    assert body["counts"] == [
        {"language": "de", "split": "none", "documents": 1, "with_gold": 0},
        {"language": "en", "split": "test", "documents": 2, "with_gold": 2},
    ]
    coverage = {c["key"]: c for c in body["gold_coverage"]}
    assert [c["key"] for c in body["gold_coverage"]] == list(ELMTEX_KEYS)
    assert coverage["diagnosis"]["filled"] == 1 and coverage["diagnosis"]["gold"] == 2
    assert coverage["gender"]["filled"] == 1  # the factory's gold says "female"

    api_client.force_authenticate(annotator)
    body = api_client.get("/api/projects/p1/").json()
    assert body["role"] == "annotator" and body["gold_coverage"] is None


def test_categories_in_schema_order(api_client, project, annotator):
    api_client.force_authenticate(annotator)
    body = api_client.get("/api/projects/p1/categories/").json()
    assert [c["key"] for c in body] == list(ELMTEX_KEYS)
    assert set(body[0]) == {"key", "label", "guideline", "text_metrics", "entity_metrics", "order"}


def test_create_project_with_elmtex_schema(api_client):
    user = UserFactory(username="creator")
    user.user_permissions.add(Permission.objects.get(codename="add_project", content_type__app_label="annotation"))
    api_client.force_authenticate(user)
    response = api_client.post(
        "/api/projects/", {"slug": "new-one", "name": "New one", "description": "d"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["role"] == "researcher" and response.json()["category_count"] == 15
    project = Project.objects.get(slug="new-one")
    assert list(project.categories.order_by("order").values_list("key", flat=True)) == list(ELMTEX_KEYS)
    assert Membership.objects.get(project=project, user=user).role == "researcher"
    assert project.created_by == user


def test_create_project_with_custom_schema(api_client):
    api_client.force_authenticate(UserFactory(is_staff=True))
    schema = [{"key": "diagnosis", "label": "Diagnosis", "entity_metrics": True}, {"key": "age", "text_metrics": False}]
    response = api_client.post("/api/projects/", {"slug": "mini", "name": "Mini", "schema": schema}, format="json")
    assert response.status_code == 201, response.content
    cats = list(
        Category.objects.filter(project__slug="mini")
        .order_by("order")
        .values_list("key", "label", "text_metrics", "entity_metrics")
    )
    assert cats == [("diagnosis", "Diagnosis", True, True), ("age", "Age", False, False)]


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"slug": "bad", "name": "Bad", "schema": [{"key": "ok"}, {"key": "Not OK"}]}, "schema", "category 2: key"),
        ({"slug": "bad", "name": "Bad", "schema": [{"key": "ok", "colour": "red"}]}, "schema", "category 1: unknown"),
        ({"slug": "bad", "name": "Bad", "schema": []}, "schema", "non-empty"),
        ({"slug": "bad", "name": "Bad", "schema": "/etc/passwd"}, "schema", '"elmtex" or a list'),
        ({"slug": "not a slug", "name": "Bad"}, None, "not valid"),
        ({"slug": "Upper", "name": "Bad"}, None, "not valid; use lowercase letters"),
        ({"slug": "p1", "name": "Again"}, None, "already exists"),
        ({"slug": "s" * 65, "name": "Long"}, None, "longer than 64"),
        ({"name": "No slug"}, "slug", "required"),
    ],
)
def test_create_project_refused(api_client, project, body, field, words):
    api_client.force_authenticate(UserFactory(is_staff=True))
    response = api_client.post("/api/projects/", body, format="json")
    assert response.status_code == 400
    error = response.json()
    assert words in error["detail"]
    assert error["errors"][0]["field"] == field
    assert Project.objects.count() == 1


def test_create_project_takes_json_only(api_client):
    api_client.force_authenticate(UserFactory(is_staff=True))
    response = api_client.post("/api/projects/", {"slug": "form", "name": "Form"}, format="multipart")
    assert response.status_code == 415
    assert not Project.objects.exists()


# --- members ----------------------------------------------------------------------------


def test_members_add_change_list_remove(api_client, project, researcher):
    UserFactory(username="carla")
    api_client.force_authenticate(researcher)
    url = "/api/projects/p1/members/"
    added = api_client.post(url, {"username": "carla", "role": "annotator"}, format="json")
    assert added.status_code == 201 and added.json()["role"] == "annotator"
    changed = api_client.post(url, {"username": "carla", "role": "reviewer"}, format="json")
    assert changed.status_code == 200 and changed.json()["role"] == "reviewer"

    listed = api_client.get(url).json()["results"]
    assert [(m["username"], m["role"]) for m in listed] == [("carla", "reviewer"), ("res", "researcher")]

    assert api_client.delete(f"{url}carla/").status_code == 204
    assert not Membership.objects.filter(user__username="carla").exists()
    again = api_client.delete(f"{url}carla/")
    assert again.status_code == 404 and "not a member" in again.json()["detail"]


def test_members_add_unknown_user_needs_create(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    url = "/api/projects/p1/members/"
    refused = api_client.post(url, {"username": "dora", "role": "annotator"}, format="json")
    assert refused.status_code == 400 and "does not exist" in refused.json()["detail"]
    api_client.force_authenticate(UserFactory(is_staff=True))
    created = api_client.post(
        url, {"username": "dora", "role": "annotator", "create": True, "password": "s3cret-pass"}, format="json"
    )
    assert created.status_code == 201
    assert api_client.login(username="dora", password="s3cret-pass")


def test_members_add_never_changes_an_existing_users_password(api_client, project, researcher):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    api_client.force_authenticate(researcher)
    response = api_client.post(
        "/api/projects/p1/members/",
        {"username": "root", "role": "annotator", "password": "taken-over"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "password"
    admin.refresh_from_db()
    assert admin.check_password("pw-123456")
    assert not Membership.objects.filter(user=admin).exists()


def test_members_add_bad_role(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    response = api_client.post("/api/projects/p1/members/", {"username": "res", "role": "boss"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "role"
