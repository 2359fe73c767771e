"""Dataset overview report: documents per split and language, N/A shares per category
and language, gold origin and annotation progress equal a direct computation."""

import random
from collections import Counter

import pytest

from annotation.schema import NA
from evaluation.services.report_dataset import dataset_report
from tests.factories import AssignmentFactory, UserFactory

from .helpers import add_document

pytestmark = pytest.mark.django_db

KEYS = ["diagnosis", "life_style", "age"]


@pytest.fixture
def case(project):
    """30 documents over splits and languages; gold with known N/A fields on 24."""
    rng = random.Random(3)
    documents, golds = [], {}
    for i in range(30):
        language = "de" if i % 4 == 0 else "en"
        split = ["train", "val", "test", "none"][i % 4 if i % 3 else 0]
        if i % 5 == 4:
            document = add_document(project, gold=None, language=language, split=split)
        else:
            given = {key: ("some value" if rng.random() < 0.5 else NA) for key in KEYS}
            document = add_document(project, gold=given, language=language, split=split)
            if i % 7 == 0:
                document.gold.origin = "adjudicated"
                document.gold.save(update_fields=["origin"])
            golds[document.pk] = given
        documents.append(document)
    users = [UserFactory(username=f"a{i}") for i in range(3)]
    statuses = ["submitted", "submitted", "in_progress", "skipped", "assigned", "withdrawn"]
    plan = []
    for i, document in enumerate(documents[:18]):
        for j, user in enumerate(users[: 1 + i % 3]):
            status = statuses[(i + j) % len(statuses)]
            AssignmentFactory(document=document, annotator=user, status=status)
            plan.append((document.pk, status))
    return {"documents": documents, "golds": golds, "assignments": plan}


def test_documents_per_split_and_language(project, case):
    report = dataset_report(project=project)
    rows = {row["language"]: row for row in report.table("documents").rows}
    assert set(rows) == {"de", "en", "all"}
    expected = Counter((d.language, d.split) for d in case["documents"])
    for language in ("de", "en"):
        for split in ("train", "val", "test", "none"):
            assert rows[language][split] == expected[(language, split)], (language, split)
        assert rows[language]["total"] == sum(1 for d in case["documents"] if d.language == language)
        gold = sum(1 for d in case["documents"] if d.language == language and d.pk in case["golds"])
        assert rows[language]["with_gold"] == gold
    assert rows["all"]["total"] == 30
    assert rows["all"]["with_gold"] == len(case["golds"])
    assert rows["all"]["train"] == sum(1 for d in case["documents"] if d.split == "train")


def test_na_share_per_category_and_language(project, case):
    report = dataset_report(project=project)
    rows = {row["category"]: row for row in report.table("gold_coverage").rows}
    language_of = {d.pk: d.language for d in case["documents"]}
    gold = case["golds"]
    for key in KEYS:
        na = sum(1 for values in gold.values() if values[key] == NA)
        assert rows[key]["na"] == na
        assert rows[key]["filled"] == len(gold) - na
        assert rows[key]["na_share"] == pytest.approx(na / len(gold))
        for language in ("de", "en"):
            mine = [values for pk, values in gold.items() if language_of[pk] == language]
            share = sum(1 for values in mine if values[key] == NA) / len(mine)
            assert rows[key][f"na_share_{language}"] == pytest.approx(share), (key, language)
    # A category absent from every gold here is N/A everywhere (helpers fill N/A).
    assert rows["family_history"]["na_share"] == 1.0
    assert 0 < rows["diagnosis"]["na_share"] < 1, "the case mixes values and N/A"
    assert list(rows) == list(project.categories.order_by("order").values_list("key", flat=True))


def test_gold_origin_and_progress(project, case):
    report = dataset_report(project=project)
    origin = {row["origin"]: row for row in report.table("gold_origin").rows}
    adjudicated = [d for d in case["documents"] if d.pk in case["golds"] and d.gold.origin == "adjudicated"]
    assert origin["adjudicated"]["total"] == len(adjudicated) > 0
    assert origin["imported"]["total"] == len(case["golds"]) - len(adjudicated)
    assert origin["adjudicated"]["de"] == sum(1 for d in adjudicated if d.language == "de")
    progress = {row["measure"]: row for row in report.table("progress").rows}
    statuses = Counter(status for _, status in case["assignments"])
    for status in ("assigned", "in_progress", "submitted", "skipped", "withdrawn"):
        assert progress[f"assignments {status.replace('_', ' ')}"]["count"] == statuses[status]
    assert progress["assignments total"]["count"] == len(case["assignments"])
    submitted = Counter(pk for pk, status in case["assignments"] if status == "submitted")
    one = progress["documents with >= 1 submitted annotation"]
    two = progress["documents with >= 2 submitted annotations"]
    assert one["count"] == len(submitted)
    assert two["count"] == sum(1 for n in submitted.values() if n >= 2) > 0
    assert one["share"] == pytest.approx(len(submitted) / 30)
    assert progress["documents with adjudicated gold"]["count"] == len(adjudicated)


def test_query_count_does_not_grow_with_documents(project, case, django_assert_max_num_queries):
    # Aggregates only: a fixed handful of queries whatever the number of documents.
    with django_assert_max_num_queries(10):
        dataset_report(project=project)


def test_empty_project(project):
    report = dataset_report(project=project)
    (total,) = report.table("documents").rows
    assert total["total"] == 0
    assert all(row["na_share"] is None for row in report.table("gold_coverage").rows)
