"""The export pages (list with form and progress, detail, download) and who may use
them and the export API: researchers and staff; annotators and reviewers 403, outsiders 404."""

import pytest
from django.urls import reverse

from annotation.models import ExportJob, ExportStatus
from annotation.services.export_jobs import export_job_create, export_job_process
from tests.factories import DocumentFactory, GoldFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("export_dir", "sent")]


@pytest.fixture
def gold(project):
    for i in range(1, 4):
        doc = DocumentFactory(project=project, external_id=str(i), split="train")
        GoldFactory(document=doc)


@pytest.fixture
def done_job(project, researcher, gold):
    job = export_job_create(project=project, user=researcher, fmt="jsonl", options={})
    export_job_process(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_list_page_starts_a_job(client, researcher, gold, sent, django_capture_on_commit_callbacks):
    client.force_login(researcher)
    page = client.get(reverse("export-list", args=["p1"]))
    assert page.status_code == 200
    assert b'name="format"' in page.content and b'value="hf"' in page.content and b'value="chat"' in page.content
    assert b'http-equiv="refresh"' not in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("export-list", args=["p1"]), {"format": "csv", "split": "train"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.format, job.options["split"], job.status) == ("csv", "train", "queued")
    assert len(sent) == 1

    # While it is queued the list reloads itself and shows a progress bar.
    page = client.get(reverse("export-list", args=["p1"]))
    assert b'http-equiv="refresh"' in page.content
    assert page["Refresh"] == "3"
    assert b"<progress" in page.content
    assert f"Export {job.pk} queued".encode() in page.content

    export_job_process(job_id=job.pk)
    page = client.get(reverse("export-list", args=["p1"]))
    assert b'http-equiv="refresh"' not in page.content
    assert "Refresh" not in page
    assert reverse("export-download", args=["p1", job.pk]).encode() in page.content


def test_list_page_refuses_bad_options_naming_the_field(client, researcher, gold, sent):
    client.force_login(researcher)
    response = client.post(reverse("export-list", args=["p1"]), {"format": "jsonl", "max_tokens": "100"})
    assert response.status_code == 400
    assert response.context["form"].errors["max_tokens"] == ["only for format chat, not jsonl"]
    assert b"only for format chat, not jsonl" in response.content
    assert not ExportJob.objects.exists()
    assert sent == []


def test_detail_page_shows_the_manifest(client, researcher, done_job):
    client.force_login(researcher)
    page = client.get(reverse("export-detail", args=["p1", done_job.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    entry = done_job.manifest["files"][0]
    assert entry["sha256"] in text
    assert done_job.manifest["download"]["sha256"] in text
    assert reverse("export-download", args=["p1", done_job.pk]) in text
    assert "<progress" not in text  # done: no progress box


def test_detail_page_of_a_failed_job_shows_the_reason(client, project, researcher, gold):
    job = ExportJob.objects.create(project=project, format="jsonl", status=ExportStatus.FAILED, error="out of disk")
    client.force_login(researcher)
    page = client.get(reverse("export-detail", args=["p1", job.pk]))
    assert b"out of disk" in page.content
    assert client.get(reverse("export-download", args=["p1", job.pk])).status_code == 409


def test_detail_page_deletes_the_job(client, researcher, done_job, settings):
    from pathlib import Path

    path = Path(settings.ELMTEX_EXPORT_DIR) / done_job.file_path
    assert path.is_file()
    client.force_login(researcher)
    response = client.post(reverse("export-detail", args=["p1", done_job.pk]), {"action": "delete"})
    assert response.status_code == 302
    assert not ExportJob.objects.exists()
    assert not path.exists()


def test_unknown_job_is_404(client, api_client, researcher, project):
    client.force_login(researcher)
    assert client.get(reverse("export-detail", args=["p1", 999])).status_code == 404
    api_client.force_authenticate(researcher)
    assert api_client.get(reverse("api-export-detail", args=["p1", 999])).status_code == 404


def test_a_job_of_another_project_is_not_found(client, researcher, done_job):
    from tests.factories import MembershipFactory, ProjectFactory

    MembershipFactory(project=ProjectFactory(slug="p2"), user=researcher, role="researcher")
    client.force_login(researcher)
    assert client.get(reverse("export-download", args=["p2", done_job.pk])).status_code == 404


def test_staff_may_use_the_pages(client, done_job):
    staff = UserFactory(username="boss")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get(reverse("export-list", args=["p1"])).status_code == 200
    assert client.get(reverse("export-download", args=["p1", done_job.pk])).status_code == 200


def _page_urls(job_id):
    return [
        ("get", reverse("export-list", args=["p1"])),
        ("post", reverse("export-list", args=["p1"])),
        ("get", reverse("export-detail", args=["p1", job_id])),
        ("post", reverse("export-detail", args=["p1", job_id])),
        ("get", reverse("export-download", args=["p1", job_id])),
    ]


def _api_urls(job_id):
    return [
        ("get", reverse("api-export-list", args=["p1"])),
        ("post", reverse("api-export-list", args=["p1"])),
        ("get", reverse("api-export-detail", args=["p1", job_id])),
        ("delete", reverse("api-export-detail", args=["p1", job_id])),
        ("get", reverse("api-export-download", args=["p1", job_id])),
    ]


@pytest.mark.parametrize(("who", "code"), [("annotator", 403), ("reviewer", 403), ("outsider", 404)])
def test_only_researchers_and_staff(client, api_client, done_job, request, who, code):
    user = request.getfixturevalue(who)
    client.force_login(user)
    for method, url in _page_urls(done_job.pk):
        body = {"format": "jsonl", "action": "delete"} if method == "post" else None
        response = getattr(client, method)(url, body) if body else getattr(client, method)(url)
        assert response.status_code == code, (method, url)
    api_client.force_authenticate(user)
    for method, url in _api_urls(done_job.pk):
        response = getattr(api_client, method)(url, {"format": "jsonl"} if method == "post" else None, format="json")
        assert response.status_code == code, (method, url)
    assert ExportJob.objects.count() == 1  # nothing created, nothing deleted


def test_login_is_needed(client, api_client, done_job):
    for _, url in _page_urls(done_job.pk)[::2]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for _, url in _api_urls(done_job.pk)[::2]:
        assert api_client.get(url).status_code in (401, 403)
