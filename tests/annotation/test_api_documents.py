"""API: documents and gold."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation.schema import ELMTEX_KEYS
from tests.factories import DocumentFactory, GoldFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


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
