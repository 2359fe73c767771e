"""The Django admin lists every model, with a constant number of queries per page."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import DocumentFactory, GoldFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db

MODELS = ["project", "membership", "category", "document", "gold"]


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", password="pw-123456")
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_every_model_has_an_admin_page(admin_client, model):
    project = ProjectFactory()
    MembershipFactory(project=project)
    GoldFactory(document=DocumentFactory(project=project))
    response = admin_client.get(reverse(f"admin:annotation_{model}_changelist"))
    assert response.status_code == 200


def test_admin_is_staff_only(client, annotator):
    client.force_login(annotator)
    response = client.get(reverse("admin:annotation_document_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def _translated_documents(project, n, prefix):
    for i in range(n):
        original = DocumentFactory(project=project, external_id=f"{prefix}{i}")
        GoldFactory(
            document=DocumentFactory(
                project=project, external_id=f"{prefix}{i}", language="de", translation_of=original
            )
        )


@pytest.mark.parametrize("model", ["document", "gold"])
def test_admin_lists_need_no_query_per_row(admin_client, model):
    project = ProjectFactory()
    url = reverse(f"admin:annotation_{model}_changelist")
    _translated_documents(project, 1, "a")
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    _translated_documents(project, 20, "b")
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert len(many) == len(few)
