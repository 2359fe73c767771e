"""Streamed downloads over the API: gold (the bytes export_gold writes) and annotations
(the lines export_annotations writes), with the rights of the pages."""

import json

import pytest
from django.urls import reverse

from tests.evaluation.agreement_helpers import annotate
from tests.factories import DocumentFactory, GoldFactory

pytestmark = pytest.mark.django_db


def _body(response) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def gold_docs(project):
    docs = []
    for i, (language, split) in enumerate([("en", "test"), ("en", "train"), ("de", "test")]):
        doc = DocumentFactory(project=project, external_id=str(i + 1), language=language, split=split)
        GoldFactory(document=doc, values={"diagnosis": f"diagnosis {i}"})
        docs.append(doc)
    return docs


def _cli_export(run_cli, tmp_path, *args) -> str:
    out = tmp_path / "cli.out"
    run_cli("export_gold", "p1", "--out", str(out), *args)
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("query", "cli_args"),
    [
        ({}, []),
        ({"format": "csv", "split": "test"}, ["--format", "csv", "--split", "test"]),
        ({"format": "json", "language": "de"}, ["--format", "json", "--language", "de"]),
        ({"format": "chat"}, ["--format", "chat"]),
    ],
)
def test_gold_download_equals_the_cli_export(api_client, researcher, gold_docs, run_cli, tmp_path, query, cli_args):
    api_client.force_authenticate(researcher)
    response = api_client.get(reverse("api-gold-export", args=["p1"]), query)
    assert response.status_code == 200
    assert _body(response) == _cli_export(run_cli, tmp_path, *cli_args)
    assert "attachment" in response["Content-Disposition"]


def test_reviewers_may_download_gold_but_annotators_and_outsiders_may_not(
    api_client, reviewer, annotator, outsider, gold_docs
):
    url = reverse("api-gold-export", args=["p1"])
    api_client.force_authenticate(reviewer)
    assert api_client.get(url).status_code == 200
    api_client.force_authenticate(annotator)
    assert api_client.get(url).status_code == 403
    api_client.force_authenticate(outsider)
    assert api_client.get(url).status_code == 404
    api_client.force_authenticate(None)
    assert api_client.get(url).status_code in (401, 403)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"format": "hf"}, "format: hf is a folder, not one download"),
        ({"format": "xml"}, "format: expected one of"),
        ({"split": "holdout"}, "split:"),
        ({"min_agreement": "2"}, "min_agreement:"),
    ],
)
def test_bad_gold_download_parameters_are_named(api_client, researcher, gold_docs, query, message):
    api_client.force_authenticate(researcher)
    response = api_client.get(reverse("api-gold-export", args=["p1"]), query)
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_annotation_download_equals_export_annotations(
    api_client, project, researcher, make_member, gold_docs, run_cli, tmp_path
):
    first, second = make_member(project, "annotator", "a1"), make_member(project, "annotator", "a2")
    annotate(gold_docs[0], first, judgements={"diagnosis": "correct"}, diagnosis="flu")
    annotate(gold_docs[0], second, judgements={"diagnosis": "incorrect"}, diagnosis="cold")
    annotate(gold_docs[2], second, diagnosis="Grippe")
    out = tmp_path / "annotations.jsonl"
    run_cli("export_annotations", "p1", "--out", str(out))

    api_client.force_authenticate(researcher)
    response = api_client.get(reverse("api-annotation-export", args=["p1"]))
    assert response.status_code == 200
    body = _body(response)
    assert body == out.read_text(encoding="utf-8")
    assert len(body.splitlines()) == 3

    only = api_client.get(reverse("api-annotation-export", args=["p1"]), {"annotator": "a1"})
    records = [json.loads(line) for line in _body(only).splitlines()]
    assert [r["annotator"] for r in records] == ["a1"]
    assert records[0]["values"]["diagnosis"] == "flu"


def test_annotation_download_is_for_researchers_only(api_client, reviewer, annotator, gold_docs):
    url = reverse("api-annotation-export", args=["p1"])
    for user in (reviewer, annotator):
        api_client.force_authenticate(user)
        assert api_client.get(url).status_code == 403
