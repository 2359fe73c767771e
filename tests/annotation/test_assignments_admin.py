"""Admin pages of the annotation-work models: they open, with no query per row."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotation.models import AccessLog, AnnotationRevision, AnnotationSettings, CheckResult, GoldRevision
from tests.factories import AnnotationFactory, DocumentFactory, ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db

MODELS = ["annotationsettings", "assignment", "annotation", "goldrevision", "checkresult", "accesslog"]


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", password="pw-123456"))
    return client


def _rows(n):
    for _ in range(n):
        project = ProjectFactory(elmtex_schema=False)
        doc = DocumentFactory(project=project)
        annotation = AnnotationFactory(assignment__document=doc, assignment__draft_run=RunFactory(project=project))
        AnnotationRevision.objects.create(
            annotation=annotation, version=2, changes={}, user=annotation.assignment.annotator
        )
        GoldRevision.objects.create(document=doc, version=1, origin="adjudicated", user=annotation.assignment.annotator)
        CheckResult.objects.create(
            project=project, document=doc, target="gold", target_id=doc.pk, code="x", message="m"
        )
        AccessLog.objects.create(project=project, document=doc, user=annotation.assignment.annotator, action="view")
        AnnotationSettings.objects.create(project=project, prefill_run=annotation.assignment.draft_run)


@pytest.mark.parametrize("model", MODELS)
def test_admin_lists_open_with_no_query_per_row(admin_client, model):
    url = reverse(f"admin:annotation_{model}_changelist")
    _rows(1)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    _rows(8)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert len(many) == len(few)


def test_annotation_change_page_shows_history(admin_client):
    _rows(1)
    from annotation.models import Annotation

    a = Annotation.objects.get()
    assert admin_client.get(reverse("admin:annotation_annotation_change", args=[a.pk])).status_code == 200
