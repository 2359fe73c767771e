"""The server-rendered pages: who sees what, the document list's filters and pages, the
document page, and logging in and out."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotation.models import Membership
from annotation.views import DocumentFilterForm
from tests.factories import DocumentFactory, GoldFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def page_urls(project, document):
    return {
        "project-detail": reverse("project-detail", args=[project.slug]),
        "document-list": reverse("document-list", args=[project.slug]),
        "document-detail": reverse("document-detail", args=[project.slug, document.pk]),
    }


@pytest.fixture
def document(project):
    return DocumentFactory(project=project, external_id="101", text="A 60-year-old man with chest pain.")


def logged_in(client, user):
    client.force_login(user)
    return client


def text_of(response) -> str:
    return response.content.decode()


def next_link(response) -> str | None:
    match = re.search(r'href="([^"]*)"\s+rel="next"', text_of(response))
    return match.group(1).replace("&amp;", "&") if match else None


# --- access -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["project-list", "project-detail", "document-list", "document-detail"])
def test_anonymous_users_are_sent_to_the_login_page(client, project, document, name):
    url = reverse("project-list") if name == "project-list" else page_urls(project, document)[name]

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "next=" in response["Location"]


@pytest.mark.parametrize("name", ["project-detail", "document-list", "document-detail"])
def test_outsider_gets_not_found_with_a_reason(client, project, document, outsider, name):
    response = logged_in(client, outsider).get(page_urls(project, document)[name])

    assert response.status_code == 404
    assert "does not exist or you are not a member of it" in text_of(response)
    assert "Traceback" not in text_of(response)


def test_unknown_project_is_not_found(client, researcher):
    response = logged_in(client, researcher).get(reverse("project-detail", args=["nope"]))

    assert response.status_code == 404
    assert "&#x27;nope&#x27; does not exist" in text_of(response)


@pytest.mark.parametrize("name", ["document-list", "document-detail"])
def test_annotator_may_not_browse_documents(client, project, document, annotator, name):
    response = logged_in(client, annotator).get(page_urls(project, document)[name])

    assert response.status_code == 403
    assert "annotators see documents through their assignments only" in text_of(response)
    assert document.text not in text_of(response)


def test_annotator_opens_the_project_page_without_documents_link_or_members(client, project, annotator, researcher):
    response = logged_in(client, annotator).get(reverse("project-detail", args=[project.slug]))

    assert response.status_code == 200
    assert "Project one" in text_of(response)
    assert "Family history" in text_of(response)  # the category schema
    assert reverse("document-list", args=[project.slug]) not in text_of(response)
    assert "Members" not in text_of(response)
    assert ">res<" not in text_of(response)


def test_document_in_another_project_is_not_found(client, project, researcher):
    other = DocumentFactory(project=ProjectFactory())

    response = logged_in(client, researcher).get(reverse("document-detail", args=[project.slug, other.pk]))

    assert response.status_code == 404
    assert f"document {other.pk} does not exist in project" in text_of(response)


def test_unknown_address_shows_the_friendly_not_found_page(client, researcher, settings):
    settings.DEBUG = False

    response = logged_in(client, researcher).get("/no/such/page/")

    assert response.status_code == 404
    assert "Back to your projects" in text_of(response)


# --- project list and project page --------------------------------------------------


def test_project_list_shows_own_projects_with_role_and_counts(client, project, reviewer):
    docs = DocumentFactory.create_batch(3, project=project)
    GoldFactory(document=docs[0])
    ProjectFactory(slug="secret", name="Not mine")

    response = logged_in(client, reviewer).get(reverse("project-list"))

    page = text_of(response)
    assert response.status_code == 200
    assert "Project one" in page and "Not mine" not in page
    row = re.search(r"<tr>\s*<td><a href=\"/p/p1/\">.*?</tr>", page, re.S).group(0)
    assert "reviewer" in row
    assert re.search(r'class="num">3</td>\s*<td class="num">1</td>', row)


def test_staff_see_every_project(client, project):
    ProjectFactory(slug="other", name="Other project")
    staff = UserFactory(username="boss", is_staff=True)

    page = text_of(logged_in(client, staff).get(reverse("project-list")))

    assert "Project one" in page and "Other project" in page
    assert "staff" in page
    assert reverse("admin:index") in page


def test_project_list_empty_state_explains_how_to_create_a_project(client, outsider):
    page = text_of(logged_in(client, outsider).get(reverse("project-list")))

    assert "No projects yet" in page
    assert "python manage.py create_project SLUG --name NAME" in page
    assert reverse("admin:index") not in page  # not staff


def test_project_page_shows_counts_coverage_schema_and_members(client, project, researcher, annotator):
    for i in range(4):
        doc = DocumentFactory(project=project, split="train", language="en")
        if i < 2:
            values = {"family_history": "mother: asthma" if i == 0 else "N/A"}
            GoldFactory(document=doc, values=GoldFactory.values.function() | values)
    DocumentFactory(project=project, split="test", language="de")

    response = logged_in(client, researcher).get(reverse("project-detail", args=[project.slug]))

    page = text_of(response)
    assert response.status_code == 200
    # Columns de, en: train has 0 in de and 4 in en (2 with gold); the grand total is 5 (2).
    assert re.search(
        r'<th scope="row">train</th>\s*<td class="num"><span class="muted">0</span></td>\s*'
        r'<td class="num">4 <span class="muted">\(2\)</span>',
        page,
    )
    assert "<strong>5</strong>" in page
    # family_history: 1 of 2 gold documents filled -> 50.0%.
    row = re.search(r"Family history <span class=\"muted small\">family_history</span>.*?</tr>", page, re.S).group(0)
    assert "50.0%" in row and 'style="width: 50.0%"' in row
    assert "<code>signs_symptoms</code>" in page and "entity" in page
    assert "Members" in page and ">ann<" in page and "Annotator" in page
    assert reverse("document-list", args=[project.slug]) in page


def test_annotator_project_page_shows_no_gold_coverage(client, project, annotator):
    # Annotators never see gold (the API answers gold_coverage null for them): no filled /
    # N/A counts per category on the page either.
    for values in ({"family_history": "mother: asthma"}, {"family_history": "N/A"}):
        GoldFactory(document__project=project, values=GoldFactory.values.function() | values)

    response = logged_in(client, annotator).get(reverse("project-detail", args=[project.slug]))

    page = text_of(response)
    assert response.status_code == 200
    assert "Gold coverage" not in page
    assert "50.0%" not in page and 'class="data coverage"' not in page
    assert response.context["coverage"] is None


def test_project_list_page_and_api_agree_on_role_and_counts(client, api_client, project):
    # One selector feeds both: a staff user who is also a member reads "staff" on both.
    staff = UserFactory(username="boss", is_staff=True)
    Membership.objects.create(project=project, user=staff, role="researcher")
    GoldFactory(document__project=project)

    [item] = logged_in(api_client, staff).get("/api/projects/").json()["results"]
    page = text_of(logged_in(client, staff).get(reverse("project-list")))

    row = re.search(r"<tr>\s*<td><a href=\"/p/p1/\">.*?</tr>", page, re.S).group(0)
    assert item["role"] == "staff" and f'badge-{item["role"]}">{item["role"]}<' in row
    assert re.search(rf'class="num">{item["document_count"]}</td>\s*<td class="num">{item["gold_count"]}</td>', row)


def test_reviewer_sees_the_documents_link_but_not_the_members(client, project, reviewer):
    page = text_of(logged_in(client, reviewer).get(reverse("project-detail", args=[project.slug])))

    assert reverse("document-list", args=[project.slug]) in page
    assert "Members" not in page


# --- document list ------------------------------------------------------------------


def listed_ids(response) -> list[str]:
    return re.findall(r'class="doc-id nowrap"><a href="/p/[^/]+/documents/\d+/">([^<]+)</a>', text_of(response))


@pytest.fixture
def mixed_documents(project):
    a = DocumentFactory(project=project, external_id="1", language="en", split="train", text="Fever and cough.")
    b = DocumentFactory(project=project, external_id="2", language="en", split="test", text="Broken left wrist.")
    c = DocumentFactory(
        project=project, external_id="1", language="de", split="train", text="Fieber und Husten.", translation_of=a
    )
    GoldFactory(document=a)
    return a, b, c


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["1", "2", "1"]),
        ({"split": "test"}, ["2"]),
        ({"language": "de"}, ["1"]),
        ({"has_gold": "yes"}, ["1"]),
        ({"has_gold": "no"}, ["2", "1"]),
        ({"q": "2"}, ["2"]),
        ({"q": "WRIST"}, ["2"]),
        ({"q": "1", "language": "de"}, ["1"]),
        ({"split": "train", "has_gold": "no"}, ["1"]),
    ],
)
def test_document_list_filters(client, project, researcher, mixed_documents, query, expected):
    response = logged_in(client, researcher).get(reverse("document-list", args=[project.slug]), query)

    assert response.status_code == 200
    assert listed_ids(response) == expected
    assert f"<strong>{len(expected)}</strong> document" in text_of(response)


def test_document_list_row_shows_gold_translation_and_excerpt(client, project, reviewer, mixed_documents):
    a, _, c = mixed_documents
    long_text = "word " * 100
    DocumentFactory(project=project, external_id="9", text=long_text)

    page = text_of(logged_in(client, reviewer).get(reverse("document-list", args=[project.slug])))

    german_row = re.search(rf'<a href="/p/p1/documents/{c.pk}/">1</a>.*?</tr>', page, re.S).group(0)
    assert f'<a href="/p/p1/documents/{a.pk}/">1 (en)</a>' in german_row
    assert "Fieber und Husten." in german_row
    assert '<span class="badge badge-yes">yes</span>' in page
    assert long_text not in page
    assert long_text[:100] in page and "…" in page


def test_language_choices_come_from_the_project_and_bad_values_are_explained(
    client, project, researcher, mixed_documents
):
    response = logged_in(client, researcher).get(
        reverse("document-list", args=[project.slug]), {"language": "fr", "split": "test"}
    )

    page = text_of(response)
    assert response.status_code == 200
    assert '<option value="de">de</option>' in page
    assert "Select a valid choice. fr is not one of the available choices." in page
    assert listed_ids(response) == ["2"]  # the valid split filter still applies


def test_document_list_paginates_and_keeps_filters(client, project, researcher):
    DocumentFactory.create_batch(120, project=project, split="train")
    DocumentFactory.create_batch(5, project=project, split="test")
    client = logged_in(client, researcher)
    url = reverse("document-list", args=[project.slug])

    first = client.get(url, {"split": "train"})
    assert "<strong>120</strong> documents found" in text_of(first)
    assert "page 1 of 3" in text_of(first)
    assert len(listed_ids(first)) == 50
    link = next_link(first)
    assert "split=train" in link and "page=2" in link

    second = client.get(url + link)
    link = next_link(second)
    assert "split=train" in link and "page=3" in link

    third = client.get(url + link)
    assert len(listed_ids(third)) == 20
    assert next_link(third) is None


def test_out_of_range_page_shows_the_last_page(client, project, researcher):
    DocumentFactory.create_batch(60, project=project)

    response = logged_in(client, researcher).get(reverse("document-list", args=[project.slug]), {"page": "99"})

    assert response.status_code == 200
    assert len(listed_ids(response)) == 10


def test_document_list_query_count_does_not_grow_with_rows(client, project, researcher, django_assert_max_num_queries):
    client = logged_in(client, researcher)
    url = reverse("document-list", args=[project.slug])
    DocumentFactory(project=project)
    with CaptureQueriesContext(connection) as few:
        client.get(url)

    originals = DocumentFactory.create_batch(30, project=project)
    for original in originals:
        GoldFactory(document=original)
        DocumentFactory(project=project, external_id=original.external_id, language="de", translation_of=original)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)

    assert len(listed_ids(response)) == 50
    assert len(few.captured_queries) <= 10


# --- document page ------------------------------------------------------------------


def test_document_page_shows_report_gold_and_provenance(client, project, researcher):
    doc = DocumentFactory(
        project=project,
        external_id="77",
        split="val",
        metadata={"source": "PMC123"},
        text="Line one.\n\n  Indented line two.",
    )
    values = GoldFactory.values.function() | {
        "family_history": "father: diabetes",
        "life_style": "smoker",
        "legacy_note": "kept from v1",
    }
    GoldFactory(document=doc, values=values, origin="adjudicated", version=3, provenance={"file": "gold.jsonl"})

    response = logged_in(client, researcher).get(reverse("document-detail", args=[project.slug, doc.pk]))

    page = text_of(response)
    assert response.status_code == 200
    assert "Line one.\n\n  Indented line two." in page  # whitespace kept
    assert "PMC123" in page and "val" in page
    assert "father: diabetes" in page and "smoker" in page
    assert '<span class="muted na">N/A</span>' in page
    # Schema order: life_style comes before family_history.
    assert page.index("Life style") < page.index("Family history")
    assert "adjudicated" in page and "version 3" in page and "gold.jsonl" in page
    assert "Gender" in page and "female" in page
    assert "legacy_note" in page and "kept from v1" in page  # a key outside the schema is still shown


def test_document_page_without_gold_says_so(client, project, reviewer, document):
    response = logged_in(client, reviewer).get(reverse("document-detail", args=[project.slug, document.pk]))

    assert response.status_code == 200
    assert "No gold for this document yet." in text_of(response)


def test_document_page_links_original_translations_and_neighbours(client, project, reviewer):
    original = DocumentFactory(project=project, external_id="5", language="en")
    german = DocumentFactory(project=project, external_id="5", language="de", translation_of=original)
    spanish = DocumentFactory(project=project, external_id="5", language="es", translation_of=original)
    client = logged_in(client, reviewer)

    page = text_of(client.get(reverse("document-detail", args=[project.slug, original.pk])))
    assert f'<a href="/p/p1/documents/{german.pk}/">5 (de)</a>' in page
    assert f'<a href="/p/p1/documents/{spanish.pk}/">5 (es)</a>' in page
    assert f'href="/p/p1/documents/{german.pk}/" rel="next"' in page

    page = text_of(client.get(reverse("document-detail", args=[project.slug, german.pk])))
    assert "Translation of" in page
    assert f'<a href="/p/p1/documents/{original.pk}/">5 (en)</a>' in page
    assert f'href="/p/p1/documents/{original.pk}/" rel="prev"' in page


def test_staff_without_membership_read_documents(client, project, document):
    staff = UserFactory(username="boss", is_staff=True)
    assert not Membership.objects.filter(user=staff).exists()

    response = logged_in(client, staff).get(reverse("document-detail", args=[project.slug, document.pk]))

    assert response.status_code == 200
    assert document.text in text_of(response)


# --- login, logout, layout ----------------------------------------------------------


def test_login_page_logs_in_and_goes_to_the_project_list(client, researcher):
    form = client.get(reverse("login"))
    assert form.status_code == 200
    assert 'for="id_username"' in text_of(form) and 'for="id_password"' in text_of(form)

    response = client.post(reverse("login"), {"username": "res", "password": "pw-123456"})

    assert response.status_code == 302
    assert response["Location"] == reverse("project-list")
    assert client.get(reverse("project-list")).status_code == 200


def test_login_with_a_wrong_password_explains(client, researcher):
    response = client.post(reverse("login"), {"username": "res", "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in text_of(response)


def test_header_shows_user_links_and_logout_posts(client, project, researcher):
    page = text_of(logged_in(client, researcher).get(reverse("project-list")))

    assert "ELMTEX" in page and ">res<" in page
    assert reverse("api-docs") in page
    assert f'<form method="post" action="{reverse("logout")}"' in page
    assert "csrfmiddlewaretoken" in page

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("project-list")).status_code == 302


# --- the page and the API read the same way -----------------------------------------


@pytest.mark.parametrize("value", ["yes", "no", "true", "0", "maybe"])
def test_page_and_api_accept_the_same_has_gold_values(client, api_client, project, reviewer, value):
    form = DocumentFilterForm({"has_gold": value}, languages=[])
    api_client.force_authenticate(reviewer)
    response = api_client.get("/api/projects/p1/documents/", {"has_gold": value})

    assert (response.status_code == 200) == form.is_valid(), (value, response.status_code)
