"""The export page's download of the new formats: chat streams, hf points to export jobs."""

import json

import pytest
from django.urls import reverse

from annotation.schema import ELMTEX_CATEGORIES
from annotation.services.exports import GoldFilter, gold_export
from inference import prompts
from tests.factories import AnnotationFactory, DocumentFactory, GoldFactory, RunFactory

pytestmark = pytest.mark.django_db


def export_url(slug="p1") -> str:
    return reverse("gold-export", args=[slug])


def downloaded(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


@pytest.fixture
def loaded(project):
    documents = []
    for n in range(3):
        document = DocumentFactory(project=project, text=f"Report {n}: {{braces}} and ünïcode.")
        GoldFactory(document=document, values={"diagnosis": f"diagnosis {n}", "gender": "male"})
        documents.append(document)
    return documents


def test_chat_download_streams_what_the_export_writes(client, reviewer, loaded, project):
    client.force_login(reviewer)
    response = client.get(export_url(), {"format": "chat"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert 'filename="p1-gold-chat.jsonl"' in response["Content-Disposition"]
    text = downloaded(response)
    lines = [json.loads(line) for line in text.splitlines()]
    assert [json.loads(line["messages"][2]["content"])["diagnosis"] for line in lines] == [
        "diagnosis 0",
        "diagnosis 1",
        "diagnosis 2",
    ]
    assert lines[0]["messages"][1]["content"] == loaded[0].text
    expected = []

    class Out:
        write = expected.append

    gold_export(project=project, out=Out(), fmt="chat", filters=GoldFilter())
    assert text == "".join(expected)


def test_chat_download_with_a_prompt_run(client, researcher, loaded, project):
    template = prompts.prompt_template(
        strategy="naive", categories=[prompts.CategoryPrompt(c.key, c.label, c.guideline) for c in ELMTEX_CATEGORIES]
    )
    template["system"] = "Frozen."
    RunFactory(project=project, name="r1", config={"prompt_template": template})
    client.force_login(researcher)
    response = client.get(export_url(), {"format": "chat", "prompt_run": "r1"})
    assert {json.loads(line)["messages"][0]["content"] for line in downloaded(response).splitlines()} == {"Frozen."}
    response = client.get(export_url(), {"format": "chat", "prompt_run": "nope"})
    assert response.status_code == 400
    assert "prompt_run: no run is named &#x27;nope&#x27; in project &#x27;p1&#x27;" in response.content.decode()
    response = client.get(export_url(), {"format": "jsonl", "prompt_run": "r1"})
    assert response.status_code == 400 and "prompt_run: only for format chat" in response.content.decode()


def test_min_agreement_download(client, researcher, loaded):
    for values in ({"diagnosis": "a"}, {"diagnosis": " A "}):
        AnnotationFactory(assignment__document=loaded[1], values=values)
    client.force_login(researcher)
    response = client.get(export_url(), {"min_agreement": "1"})
    assert [json.loads(line)["report"] for line in downloaded(response).splitlines()] == [loaded[1].text]
    response = client.get(export_url(), {"min_agreement": "1.5"})
    assert response.status_code == 400
    assert "min_agreement: expected a number from 0 to 1" in response.content.decode()


def test_hf_sends_researchers_to_the_export_jobs(client, researcher, reviewer, loaded):
    client.force_login(researcher)
    response = client.get(export_url(), {"format": "hf"})
    assert response.status_code == 302
    assert response["Location"] == "/p/p1/exports/?format=hf"
    client.force_login(reviewer)  # reviewers download, but do not run export jobs
    response = client.get(export_url(), {"format": "hf"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "format: hf is a folder, not one download" in text and "/p/p1/exports/" in text


def test_annotators_cannot_download_chat(client, annotator, loaded):
    client.force_login(annotator)
    assert client.get(export_url(), {"format": "chat"}).status_code == 403


def test_unknown_format_names_every_format(client, reviewer, loaded):
    client.force_login(reviewer)
    response = client.get(export_url(), {"format": "xml"})
    assert response.status_code == 400
    assert "format: expected one of jsonl, json, csv, hf, chat, got &#x27;xml&#x27;" in response.content.decode()
