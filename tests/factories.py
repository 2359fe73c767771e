"""factory_boy factories, in one place (STYLE.md rule 6)."""

import json

import factory
from django.contrib.auth import get_user_model

from annotation.models import Annotation, Assignment, Document, Gold, Membership, Project
from annotation.pipeline.records import content_hash
from annotation.schema import ELMTEX_CATEGORIES
from annotation.services.projects import categories_create
from inference.models import Candidate, ModelEndpoint, ModelRun


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "pw-123456")
        if create:
            obj.save(update_fields=["password"])


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"proj{n}")
    name = factory.LazyAttribute(lambda o: f"Project {o.slug}")

    @factory.post_generation
    def elmtex_schema(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            categories_create(project=obj, categories=list(ELMTEX_CATEGORIES))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = "annotator"


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    project = factory.SubFactory(ProjectFactory)
    external_id = factory.Sequence(lambda n: str(n + 1))
    language = "en"
    text = factory.Sequence(lambda n: f"Case {n}: a 40-year-old woman presented with fever and cough.")
    split = "none"
    metadata = factory.LazyFunction(dict)
    content_hash = factory.LazyAttribute(lambda o: content_hash(o.text, None, o.split))


class GoldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Gold

    document = factory.SubFactory(DocumentFactory)
    values = factory.LazyFunction(lambda: {c.key: "N/A" for c in ELMTEX_CATEGORIES} | {"gender": "female"})
    origin = "imported"


class EndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelEndpoint

    name = factory.Sequence(lambda n: f"endpoint{n}")
    base_url = "http://127.0.0.1:9/"
    model_id = "test/model"
    mode = "chat"
    concurrency = 4
    info = factory.LazyFunction(lambda: {"model_id": "test/model", "max_concurrent_requests": 5})


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelRun

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"run{n}")
    endpoint = factory.SubFactory(EndpointFactory)
    strategy = "naive"
    status = "finished"


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Candidate

    run = factory.SubFactory(RunFactory)
    document = factory.SubFactory(DocumentFactory)
    status = "ok"
    values = factory.LazyFunction(lambda: {c.key: "N/A" for c in ELMTEX_CATEGORIES} | {"gender": "female"})
    raw_output = factory.LazyAttribute(lambda o: json.dumps(o.values) if o.values is not None else "")


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    document = factory.SubFactory(DocumentFactory)
    project = factory.LazyAttribute(lambda o: o.document.project)
    annotator = factory.SubFactory(UserFactory)
    status = "assigned"


class AnnotationFactory(factory.django.DjangoModelFactory):
    """A submitted annotation (its assignment says so)."""

    class Meta:
        model = Annotation

    assignment = factory.SubFactory(AssignmentFactory, status="submitted")
    values = factory.LazyFunction(lambda: {c.key: "N/A" for c in ELMTEX_CATEGORIES} | {"gender": "female"})
    judgements = factory.LazyFunction(dict)
    spans = factory.LazyFunction(dict)
