"""Optimistic locking under real concurrency: two saves from the same version at once,
in two database connections -> exactly one is saved, the other gets a 409."""

import threading

import pytest
from django.db import connection

from annotation.models import Annotation, AnnotationRevision
from annotation.services.annotations import annotation_open, annotation_save
from elmtex_site.errors import Conflict
from tests.factories import AssignmentFactory, DocumentFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_concurrent_saves_from_one_version_give_one_conflict():
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks (PostgreSQL)")
    project = ProjectFactory(slug="pc")
    user = UserFactory(username="ann-c")
    MembershipFactory(project=project, user=user, role="annotator")
    assignment = AssignmentFactory(document=DocumentFactory(project=project), project=project, annotator=user)
    version = annotation_open(assignment=assignment, user=user).version
    barrier = threading.Barrier(2)
    outcomes = []

    def save(age):
        try:
            barrier.wait()
            annotation_save(
                assignment=assignment, user=user, version=version, values={"age": age}, judgements={}, spans={}
            )
            outcomes.append("saved")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(age,)) for age in ("41", "42")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "saved"]
    annotation = Annotation.objects.get()
    assert annotation.version == version + 1 and annotation.values["age"] in ("41", "42")
    assert AnnotationRevision.objects.count() == 1
