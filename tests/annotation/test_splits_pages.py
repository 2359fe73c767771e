"""Split assignment over the API and the page: the same service as ``assign_splits``;
researchers and staff only."""

import pytest
from django.urls import reverse

from annotation.models import Document
from tests.factories import DocumentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def documents(project):
    originals = [DocumentFactory(project=project, external_id=str(i)) for i in range(1, 21)]
    for doc in originals[:5]:
        DocumentFactory(project=project, external_id=doc.external_id, language="de", translation_of=doc)
    return originals


def test_api_assigns_splits(api_client, researcher, documents):
    api_client.force_authenticate(researcher)
    url = reverse("api-splits-assign", args=["p1"])
    response = api_client.post(url, {"ratios": [0.5, 0.25, 0.25], "seed": 9}, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["units_per_split"] == {"train": 10, "val": 5, "test": 5}
    assert data["translations_followed"] == 5
    assert data["documents"] == 25
    assert data["unchanged"] == 0
    assert data["summary"].startswith("assigned 25 documents: ")
    for de in Document.objects.filter(language="de"):
        assert de.split == Document.objects.get(pk=de.translation_of_id).split
    # The same request again changes nothing; with force and the same seed nothing moves.
    before = dict(Document.objects.values_list("pk", "split"))
    again = api_client.post(url, {"ratios": "0.5,0.25,0.25", "seed": 9}, format="json").json()
    assert (again["documents"], again["unchanged"]) == (0, 25)
    forced = api_client.post(url, {"ratios": "0.5,0.25,0.25", "seed": 9, "force": True}, format="json").json()
    assert forced["documents"] == 25
    assert dict(Document.objects.values_list("pk", "split")) == before


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"ratios": [0.5, 0.5], "seed": 1}, "ratios", "expected 3 ratios"),
        ({"ratios": [0.5, 0.5, 0.5], "seed": 1}, "ratios", "the ratios sum to 1.5, not 1"),
        ({"ratios": {"train": 1}, "seed": 1}, "ratios", "expected a list or a comma-separated string"),
        ({"ratios": [1, 0, 0], "seed": "x"}, "seed", "A valid integer is required"),
        ({"ratios": [1, 0, 0]}, "seed", "required"),
    ],
)
def test_api_refuses_bad_input(api_client, researcher, documents, body, field, message):
    api_client.force_authenticate(researcher)
    response = api_client.post(reverse("api-splits-assign", args=["p1"]), body, format="json")
    assert response.status_code == 400
    problem = response.json()["errors"][0]
    assert problem["field"] == field
    assert message in problem["message"]
    assert set(Document.objects.values_list("split", flat=True)) == {"none"}


def test_page_shows_counts_and_assigns(client, researcher, documents):
    client.force_login(researcher)
    url = reverse("splits-assign", args=["p1"])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["counts"]["rows"][0]["split"] == "none"
    assert page.context["counts"]["total"]["documents"] == 25
    response = client.post(url, {"ratios": "0.8,0.1,0.1", "seed": "3"}, follow=True)
    assert response.status_code == 200
    rows = {row["split"]: row["total"]["documents"] for row in response.context["counts"]["rows"]}
    assert "none" not in rows
    assert sum(rows.values()) == 25
    # 20 originals cut 16/2/2; each German translation lands with its original.
    originals = Document.objects.filter(language="en")
    assert [originals.filter(split=s).count() for s in ("train", "val", "test")] == [16, 2, 2]
    message = (
        f"Assigned 25 documents: train {rows['train']}, val {rows['val']}, test {rows['test']} "
        "(5 translations followed their original; 0 already had a split)."
    )
    assert message in response.content.decode()


def test_page_refuses_bad_ratios(client, researcher, documents):
    client.force_login(researcher)
    response = client.post(reverse("splits-assign", args=["p1"]), {"ratios": "0.8,0.3,0.1", "seed": "3"})
    assert response.status_code == 400
    assert "the ratios sum to 1.2, not 1" in response.context["form"].errors["ratios"][0]
    assert set(Document.objects.values_list("split", flat=True)) == {"none"}


@pytest.mark.parametrize(("who", "code"), [("annotator", 403), ("reviewer", 403), ("outsider", 404)])
def test_only_researchers_and_staff(client, api_client, documents, request, who, code):
    user = request.getfixturevalue(who)
    client.force_login(user)
    url = reverse("splits-assign", args=["p1"])
    assert client.get(url).status_code == code
    assert client.post(url, {"ratios": "1,0,0", "seed": "1"}).status_code == code
    api_client.force_authenticate(user)
    api = reverse("api-splits-assign", args=["p1"])
    assert api_client.post(api, {"ratios": [1, 0, 0], "seed": 1}, format="json").status_code == code
    assert set(Document.objects.values_list("split", flat=True)) == {"none"}


def test_staff_may_assign(api_client, documents):
    staff = UserFactory(username="boss")
    staff.is_staff = True
    staff.save()
    api_client.force_authenticate(staff)
    response = api_client.post(
        reverse("api-splits-assign", args=["p1"]), {"ratios": [1, 0, 0], "seed": 1}, format="json"
    )
    assert response.status_code == 200
    assert set(Document.objects.values_list("split", flat=True)) == {"train"}
