"""assign_splits (CLI.md "Splits"): stable for a seed, exact ratios, existing splits kept
unless --force, translations follow their original."""

import json
import random

import pytest

from annotation.models import Document
from annotation.services.splits import splits_assign, splits_counts
from elmtex_site.errors import ApplicationError
from tests.factories import DocumentFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def make_documents(project, ids, *, language="en", split="none"):
    return [DocumentFactory(project=project, external_id=str(i), language=language, split=split) for i in ids]


def splits_by_id(project, language="en") -> dict[str, str]:
    return dict(Document.objects.filter(project=project, language=language).values_list("external_id", "split"))


def test_counts_follow_the_ratios_exactly(project, run_cli):
    make_documents(project, range(1, 1001))
    result = run_cli("assign_splits", "p1", "--ratios", "0.8,0.1,0.1", "--seed", "7")
    assert result.code == 0, result.err
    assert result.out.strip() == (
        "assigned 1000 documents: train 800, val 100, test 100 "
        "(0 translations followed their original; 0 already had a split)"
    )
    values = list(splits_by_id(project).values())
    assert (values.count("train"), values.count("val"), values.count("test")) == (800, 100, 100)


def test_largest_remainder_counts():
    assert splits_counts(units=10, ratios=(0.7, 0.15, 0.15)) == [7, 2, 1]  # 7, 1.5, 1.5: tie -> val
    assert splits_counts(units=3, ratios=(0.5, 0.25, 0.25)) == [1, 1, 1]  # 1.5, .75, .75
    assert splits_counts(units=100, ratios=(0.29, 0.71, 0)) == [29, 71, 0]
    assert splits_counts(units=2, ratios=(0.5, 0.25, 0.25)) == [1, 1, 0]  # 1, .5, .5: tie -> val
    assert splits_counts(units=7, ratios=(1, 0, 0)) == [7, 0, 0]
    assert splits_counts(units=0, ratios=(0.8, 0.1, 0.1)) == [0, 0, 0]
    for n in range(0, 50):
        assert sum(splits_counts(units=n, ratios=(0.8, 0.1, 0.1))) == n


def test_same_seed_same_result_regardless_of_import_order():
    ids = list(range(1, 201))
    first, second = ProjectFactory(slug="a"), ProjectFactory(slug="b")
    make_documents(first, ids)
    shuffled = ids[:]
    random.Random(3).shuffle(shuffled)
    make_documents(second, shuffled)  # other database ids, other import order
    splits_assign(project=first, ratios="0.6,0.2,0.2", seed=42)
    splits_assign(project=second, ratios=[0.6, 0.2, 0.2], seed=42)
    assert splits_by_id(first) == splits_by_id(second)
    # Again with --force and the same seed: nothing moves.
    before = splits_by_id(first)
    splits_assign(project=first, ratios="0.6,0.2,0.2", seed=42, force=True)
    assert splits_by_id(first) == before


def test_a_different_seed_gives_a_different_assignment():
    one, two = ProjectFactory(slug="a"), ProjectFactory(slug="b")
    make_documents(one, range(1, 201))
    make_documents(two, range(1, 201))
    splits_assign(project=one, ratios="0.5,0.25,0.25", seed=1)
    splits_assign(project=two, ratios="0.5,0.25,0.25", seed=2)
    a, b = splits_by_id(one), splits_by_id(two)
    assert sorted(a.values()) == sorted(b.values())  # same counts
    assert a != b


def test_existing_splits_are_kept_unless_force(project, run_cli):
    kept = make_documents(project, range(1, 11), split="test")
    make_documents(project, range(11, 31))
    result = run_cli("assign_splits", "p1", "--ratios", "0.5,0.5,0", "--seed", "1")
    assert result.code == 0, result.err
    assert result.out.strip().endswith("(0 translations followed their original; 10 already had a split)")
    assert result.out.startswith("assigned 20 documents: train 10, val 10, test 0 ")
    assert all(Document.objects.get(pk=d.pk).split == "test" for d in kept)

    # A second run finds nothing left to assign.
    again = run_cli("assign_splits", "p1", "--ratios", "0.5,0.5,0", "--seed", "1")
    assert again.out.startswith("assigned 0 documents: train 0, val 0, test 0 ")
    assert "30 already had a split" in again.out

    forced = run_cli("assign_splits", "p1", "--ratios", "1,0,0", "--seed", "1", "--force")
    assert forced.code == 0, forced.err
    assert forced.out.startswith("assigned 30 documents: train 30, val 0, test 0 ")
    assert set(splits_by_id(project).values()) == {"train"}


def test_translations_follow_their_original(project):
    originals = make_documents(project, range(1, 101))
    for doc in originals[:60]:
        DocumentFactory(project=project, external_id=doc.external_id, language="de", translation_of=doc)
    # A German record without an English original is a unit of its own.
    DocumentFactory(project=project, external_id="de-only", language="de")
    result = splits_assign(project=project, ratios="0.8,0.1,0.1", seed=5)
    assert result.units_drawn == 101
    assert result.translations_followed == 60
    assert result.documents == 161
    english = splits_by_id(project, "en")
    for de in Document.objects.filter(project=project, language="de", translation_of__isnull=False):
        assert de.split == english[de.external_id]
    assert Document.objects.get(external_id="de-only").split in ("train", "val", "test")
    # Counts are per unit: 101 units -> 81/10/10 (largest remainder), translations ride along.
    assert result.units_per_split == {"train": 81, "val": 10, "test": 10}
    total = sum(result.assigned.values())
    assert total == Document.objects.filter(project=project).exclude(split="none").count()


def test_without_force_a_translation_without_split_joins_its_original(project):
    original = DocumentFactory(project=project, external_id="1", split="val")
    translation = DocumentFactory(project=project, external_id="1", language="de", translation_of=original)
    # Original without a split but a translation with one: the pair takes the translation's.
    lone = DocumentFactory(project=project, external_id="2")
    DocumentFactory(project=project, external_id="2", language="de", translation_of=lone, split="test")
    result = splits_assign(project=project, ratios="1,0,0", seed=0)
    translation.refresh_from_db()
    lone.refresh_from_db()
    assert translation.split == "val"
    assert lone.split == "test"
    assert result.translations_followed == 1
    assert result.unchanged == 2
    assert result.units_drawn == 0


@pytest.mark.parametrize(
    ("ratios", "message"),
    [
        ("0.8,0.1", "expected 3 ratios (train, val, test), got 2"),
        ("0.8,0.1,0.2", "the ratios sum to 1.1, not 1"),
        ("0.8,-0.1,0.3", "val ratio '-0.1' must be a non-negative number"),
        ("0.8,abc,0.2", "val ratio 'abc' is not a number"),
        ("nan,0,1", "train ratio 'nan' must be a non-negative number"),
    ],
)
def test_bad_ratios_exit_1_with_a_message(project, run_cli, ratios, message):
    make_documents(project, range(1, 4))
    result = run_cli("assign_splits", "p1", "--ratios", ratios, "--seed", "1")
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith("error: --ratios: ")
    assert message in result.err_lines[0]
    assert set(splits_by_id(project).values()) == {"none"}


def test_unknown_project_exit_1(db, run_cli):
    result = run_cli("assign_splits", "nope", "--ratios", "0.8,0.1,0.1", "--seed", "1")
    assert result.code == 1
    assert result.err_lines == ["error: project 'nope' does not exist; create it with create_project"]
    assert "Traceback" not in result.err


def test_seed_is_required(project, run_cli):
    result = run_cli("assign_splits", "p1", "--ratios", "0.8,0.1,0.1")
    assert result.code == 2


def test_json_output(project, run_cli, tmp_path):
    make_documents(project, range(1, 11))
    path = tmp_path / "splits.json"
    result = run_cli("assign_splits", "p1", "--ratios", "0.8,0.1,0.1", "--seed", "3", "--json", str(path))
    assert result.code == 0, result.err
    data = json.loads(path.read_text())
    assert data["assigned"] == {"train": 8, "val": 1, "test": 1}
    assert data["documents"] == 10
    assert data["seed"] == 3
    assert data["ratios"] == {"train": 0.8, "val": 0.1, "test": 0.1}
    assert result.out.startswith("assigned 10 documents")


def test_api_seed_must_be_an_integer(project):
    with pytest.raises(ApplicationError, match="seed"):
        splits_assign(project=project, ratios="1,0,0", seed="1")
