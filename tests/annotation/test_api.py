"""The REST API (``/api/``): who may call what, and that it does what the commands do."""

import io
import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import reset_generator_stats
from rest_framework.authtoken.models import Token

from annotation.models import Category, Document, Gold, Membership, Project
from annotation.schema import ELMTEX_KEYS
from tests.factories import DocumentFactory, GoldFactory, MembershipFactory, ProjectFactory, UserFactory

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


# --- documents --------------------------------------------------------------------------


def test_document_list_pagination(api_client, project, reviewer):
    DocumentFactory.create_batch(53, project=project)
    api_client.force_authenticate(reviewer)
    first = api_client.get("/api/projects/p1/documents/").json()
    assert first["count"] == 53 and len(first["results"]) == 50 and first["next"]
    second = api_client.get(first["next"]).json()
    assert len(second["results"]) == 3 and second["next"] is None
    ids = [d["id"] for d in first["results"] + second["results"]]
    assert ids == sorted(ids) and len(set(ids)) == 53


def test_document_list_filters(api_client, project, reviewer):
    a = GoldFactory(
        document__project=project,
        document__external_id="A1",
        document__split="train",
        document__text="Fever and cough.",
    ).document
    b = DocumentFactory(project=project, external_id="B2", split="test", text="Chest pain at rest.")
    c = DocumentFactory(project=project, external_id="A1", language="de", translation_of=a, text="Fieber.")
    DocumentFactory(project=ProjectFactory(), external_id="A1")  # another project
    api_client.force_authenticate(reviewer)

    def ids(**params):
        response = api_client.get("/api/projects/p1/documents/", params)
        assert response.status_code == 200, response.content
        return [d["id"] for d in response.json()["results"]]

    assert ids() == [a.pk, b.pk, c.pk]
    assert ids(split="train") == [a.pk]
    assert ids(language="de") == [c.pk]
    assert ids(has_gold="yes") == [a.pk]
    assert ids(has_gold="no") == [b.pk, c.pk]
    assert ids(q="A1") == [a.pk, c.pk]
    assert ids(q="chest PAIN") == [b.pk]
    assert ids(q="A1", language="en", has_gold="yes", split="train") == [a.pk]

    item = api_client.get("/api/projects/p1/documents/", {"language": "de"}).json()["results"][0]
    assert item == {
        "id": c.pk,
        "patient_id": "A1",
        "language": "de",
        "split": "none",
        "translation_of": a.pk,
        "has_gold": False,
        "metadata": {},
        "text_preview": "Fieber.",
    }


@pytest.mark.parametrize("params, field", [({"split": "holdout"}, "split"), ({"has_gold": "maybe"}, "has_gold")])
def test_document_list_bad_filter(api_client, project, reviewer, params, field):
    api_client.force_authenticate(reviewer)
    response = api_client.get("/api/projects/p1/documents/", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_document_list_shows_a_preview_not_the_text(api_client, project, reviewer):
    long_text = "x" * 5000
    DocumentFactory(project=project, text=long_text, metadata={"pmid": "123"})
    api_client.force_authenticate(reviewer)
    item = api_client.get("/api/projects/p1/documents/").json()["results"][0]
    assert "text" not in item
    assert item["text_preview"] == "x" * 200 + "…"
    assert item["metadata"] == {"pmid": "123"}


def test_document_list_queries_do_not_grow_with_documents(api_client, project, reviewer):
    api_client.force_authenticate(reviewer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get("/api/projects/p1/documents/").status_code == 200
        return len(ctx.captured_queries)

    GoldFactory(document__project=project)
    few = queries()
    GoldFactory.create_batch(20, document__project=project)
    DocumentFactory.create_batch(20, project=project)
    assert queries() == few


def test_document_detail(api_client, project, researcher):
    en = GoldFactory(document__project=project, document__external_id="7", document__text="Full text.").document
    de = DocumentFactory(project=project, external_id="7", language="de", translation_of=en)
    api_client.force_authenticate(researcher)
    body = api_client.get(f"/api/projects/p1/documents/{en.pk}/").json()
    assert body["text"] == "Full text." and body["patient_id"] == "7"
    assert body["translations"] == [de.pk] and body["translation_of"] is None and body["has_gold"] is True
    body = api_client.get(f"/api/projects/p1/documents/{de.pk}/").json()
    assert body["translation_of"] == en.pk and body["translations"] == [] and body["has_gold"] is False
    assert api_client.get("/api/projects/p1/documents/999999/").status_code == 404


def test_gold_values_in_schema_order(api_client, project, reviewer):
    editor = UserFactory(username="editor")
    values = {"gender": "male", "diagnosis": "appendicitis", "age": "12 years"}  # not in schema order, keys missing
    gold = GoldFactory(
        document__project=project,
        values=values,
        origin="adjudicated",
        version=3,
        provenance={"annotations": [1, 2]},
        updated_by=editor,
    )
    api_client.force_authenticate(reviewer)
    response = api_client.get(f"/api/projects/p1/documents/{gold.document_id}/gold/")
    assert response.status_code == 200
    body = response.json()
    assert list(body["values"]) == list(ELMTEX_KEYS)
    assert body["values"]["diagnosis"] == "appendicitis" and body["values"]["age"] == "12 years"
    assert body["values"]["family_history"] == "N/A"
    assert body["origin"] == "adjudicated" and body["version"] == 3
    assert body["provenance"] == {"annotations": [1, 2]} and body["updated_by"] == "editor"
    assert body["document"] == gold.document_id and body["updated_at"]


def test_gold_missing_is_404(api_client, project, reviewer):
    doc = DocumentFactory(project=project)
    api_client.force_authenticate(reviewer)
    response = api_client.get(f"/api/projects/p1/documents/{doc.pk}/gold/")
    assert response.status_code == 404 and "has no gold" in response.json()["detail"]


# --- imports ----------------------------------------------------------------------------

RECORDS = [
    {
        "patient_id": 1,
        "report": "A 40-year-old woman with fever.",
        "summary": {"diagnosis": "influenza"},
        "title": "Case one",
    },
    {"patient_id": "2", "report": "A boy with a broken arm."},
]


def _post_import(client, name: str, content: bytes, **fields):
    data = {"file": SimpleUploadedFile(name, content), **fields}
    return client.post("/api/projects/p1/imports/", data, format="multipart")


def _as_jsonl(records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _as_csv() -> bytes:
    return b'patient_id,report,diagnosis\n1,"A 40-year-old woman\nwith fever.",influenza\n2,A boy.,\n'


@pytest.mark.parametrize(
    "name, content, fmt",
    [
        ("cases.json", json.dumps(RECORDS).encode(), "auto"),
        ("cases.jsonl", _as_jsonl(RECORDS), "auto"),
        ("upload.bin", _as_jsonl(RECORDS), "jsonl"),
        ("cases.csv", _as_csv(), "auto"),
    ],
)
def test_import_success(api_client, project, researcher, name, content, fmt):
    api_client.force_authenticate(researcher)
    response = _post_import(api_client, name, content, format=fmt, split="train")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["new"] == 2 and body["unchanged"] == 0 and body["replaced"] == 0
    assert body["summary"].startswith("imported 2 new, 0 unchanged, 0 replaced")
    docs = {d.external_id: d for d in Document.objects.filter(project=project)}
    assert set(docs) == {"1", "2"} and {d.split for d in docs.values()} == {"train"}
    assert Gold.objects.get(document=docs["1"]).values["diagnosis"] == "influenza"


def test_import_options_language_and_metadata(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    assert _post_import(api_client, "en.json", json.dumps(RECORDS).encode()).status_code == 201
    response = _post_import(api_client, "de.jsonl", _as_jsonl(RECORDS), language="de")
    assert response.status_code == 201, response.content
    en, de = Document.objects.get(external_id="1", language="en"), Document.objects.get(external_id="1", language="de")
    assert de.translation_of == en and en.metadata == {"title": "Case one"}


def test_import_reupload_reports_unchanged(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    content = json.dumps(RECORDS).encode()
    response = _post_import(api_client, "cases.json", content)
    assert response.status_code == 201
    first = response.json()
    assert first["new"] == 2 and first["set_to_na"] > 0
    again = _post_import(api_client, "cases.json", content)
    assert again.status_code == 201
    # The counts describe how the file was read, so they repeat the first upload's.
    assert again.json() | {"summary": None} == {
        "new": 0,
        "unchanged": 2,
        "replaced": 0,
        "set_to_na": first["set_to_na"],
        "dropped": 0,
        "summary": None,
    }
    assert Document.objects.filter(project=project).count() == 2


def test_import_changed_content_needs_update(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    assert _post_import(api_client, "cases.json", json.dumps(RECORDS).encode()).status_code == 201
    changed = json.dumps([RECORDS[0] | {"report": "Changed text."}]).encode()
    refused = _post_import(api_client, "cases.json", changed)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "patient_id" and "--update" in refused.json()["detail"]
    replaced = _post_import(api_client, "cases.json", changed, update="true")
    assert replaced.status_code == 201 and replaced.json()["replaced"] == 1
    assert Document.objects.get(external_id="1").text == "Changed text."


def test_import_refused_lists_problems_and_writes_nothing(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    lines = [
        {"patient_id": "1", "report": "Fine."},
        {"patient_id": "2"},
        {"patient_id": "3", "report": "Fine.", "summary": {"diagnosis": ["a", "b"]}},
        {"patient_id": "4", "report": "Fine.", "summary": {"hobbies": "chess"}},
    ]
    response = _post_import(api_client, "bad.jsonl", _as_jsonl(lines))
    assert response.status_code == 400
    body = response.json()
    assert body["error_count"] == 3 and body["detail"].startswith("import refused, nothing was written")
    located = [(e["record"], e["line"], e["field"]) for e in body["errors"]]
    assert located == [(2, 2, "report"), (3, 3, "summary.diagnosis"), (4, 4, "summary.hobbies")]
    assert body["errors"][1]["file"] == "bad.jsonl"
    assert body["errors"][1]["text"].startswith("bad.jsonl: record 3 (line 3): summary.diagnosis: ")
    assert not Document.objects.exists() and not Gold.objects.exists()


@pytest.mark.parametrize(
    "name, content, fields, field, words",
    [
        ("empty.json", b"", {}, None, "no records"),
        ("obj.json", b'{"patient_id": 1}', {"format": "json"}, None, "expected a JSON array"),
        ("latin1.jsonl", '{"patient_id": 1, "report": "Fräulein"}\n'.encode("latin-1"), {}, None, "UTF-8"),
        ("cases.csv", b"patient_id,report,hobby\n1,x,chess\n", {}, "hobby", "unknown column"),
        ("cases.json", b"[]", {"format": "yaml"}, "format", "valid choice"),
        ("cases.json", b"[]", {"split": "holdout"}, "split", "expected one of"),
    ],
)
def test_import_refused_inputs(api_client, project, researcher, name, content, fields, field, words):
    api_client.force_authenticate(researcher)
    response = _post_import(api_client, name, content, **fields)
    assert response.status_code == 400, response.content
    body = response.json()
    assert words in body["detail"], body
    assert body["errors"][0]["field"] == field
    assert not Document.objects.exists()


def test_import_without_file(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    response = api_client.post("/api/projects/p1/imports/", {"format": "json"}, format="multipart")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "file"


def test_import_of_a_file_spooled_to_disk(api_client, project, researcher, settings):
    # Past FILE_UPLOAD_MAX_MEMORY_SIZE Django keeps the upload in a temporary file; the
    # import must read it from there like a small one.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    records = [{"patient_id": i, "report": f"Case {i}. " + "text " * 50} for i in range(200)]
    api_client.force_authenticate(researcher)
    response = _post_import(api_client, "big.jsonl", _as_jsonl(records))
    assert response.status_code == 201, response.content
    assert response.json()["new"] == 200


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
