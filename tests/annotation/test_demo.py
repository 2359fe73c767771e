"""The synthetic demo dataset (annotation.demo) and the generate_demo_data / seed_demo commands."""

import json
from collections import Counter

import pytest
from django.contrib.auth import get_user_model

from annotation.demo import SCENARIOS, generate_demo_records, write_demo_files
from annotation.models import Document, Gold, Membership, Project
from annotation.schema import ELMTEX_KEYS, NA


@pytest.fixture(scope="module")
def records():
    return generate_demo_records(240, seed=0)


def _items(value: str) -> list[str]:
    return [item for item in value.split("; ") if item]


# --- the generator (pure) ----------------------------------------------------------------


def test_at_least_200_english_reports_with_all_keys_in_schema_order(records):
    english, _ = records
    assert len(english) >= 200
    assert len({r["patient_id"] for r in english}) == len(english)
    for record in english:
        assert set(record) >= {"patient_id", "report", "summary", "split", "title"}
        assert list(record["summary"]) == list(ELMTEX_KEYS)
        assert all(isinstance(v, str) and v.strip() for v in record["summary"].values())
        assert record["split"] in {"train", "val", "test"}


def test_every_category_is_filled_somewhere_and_na_somewhere(records):
    english, german = records
    for recs in (english, german):
        filled = Counter(k for r in recs for k, v in r["summary"].items() if v != NA)
        empty = Counter(k for r in recs for k, v in r["summary"].items() if v == NA)
        for key in ELMTEX_KEYS:
            assert filled[key] > 0, f"{key} is never filled"
            assert empty[key] > 0, f"{key} is never N/A"


def test_na_shares_are_realistic(records):
    english, _ = records
    share = {key: sum(r["summary"][key] == NA for r in english) / len(english) for key in ELMTEX_KEYS}
    assert 0.3 <= share["family_history"] <= 0.7
    assert share["pathology"] >= 0.4  # only biopsied or resected cases have pathology
    assert share["signs_symptoms"] <= 0.15 and share["diagnosis"] <= 0.15
    assert share["age"] <= 0.15 and share["gender"] <= 0.15


def test_every_gold_item_occurs_in_its_report(records):
    # No exceptions: the generator inserts each item verbatim into the report text.
    english, german = records
    missing = [
        (r["patient_id"], r.get("language", "en"), key, item)
        for r in english + german
        for key, value in r["summary"].items()
        if value != NA
        for item in _items(value)
        if item.casefold() not in r["report"].casefold()
    ]
    assert missing == []


def test_reports_vary_in_length_condition_and_wording(records):
    english, _ = records
    lengths = [len(r["report"]) for r in english]
    assert min(lengths) >= 400 and max(lengths) <= 3500
    assert max(lengths) - min(lengths) >= 1000
    assert len(SCENARIOS) >= 15
    assert len({r["summary"]["diagnosis"].split("; ")[0] for r in english}) >= 20
    assert len({r["report"].split(".")[0] for r in english}) >= 150  # opening sentences differ
    assert any(r["summary"]["age"].endswith("months") for r in english)  # infants
    assert {r["summary"]["gender"] for r in english} >= {"male", "female", NA}


def test_splits_are_roughly_70_15_15(records):
    english, _ = records
    counts = Counter(r["split"] for r in english)
    assert counts["train"] == round(0.7 * len(english))
    assert counts["val"] == round(0.15 * len(english))
    assert counts["test"] == len(english) - counts["train"] - counts["val"]


def test_german_counterparts_share_id_and_split_and_are_german(records):
    english, german = records
    by_id = {r["patient_id"]: r for r in english}
    assert len(german) == round(0.25 * len(english))
    for record in german:
        assert record["language"] == "de"
        original = by_id[record["patient_id"]]
        assert record["split"] == original["split"]
        assert list(record["summary"]) == list(ELMTEX_KEYS)
        # The same categories are stated in both languages.
        assert [v == NA for v in record["summary"].values()] == [v == NA for v in original["summary"].values()]
        assert record["report"] != original["report"]
    text = " ".join(r["report"] for r in german)
    assert "Diagnose" in text and "Labor" in text
    assert {r["summary"]["gender"] for r in german} - {NA} <= {"männlich", "weiblich"}


def test_same_seed_same_records_other_seed_other_records(records):
    assert generate_demo_records(240, seed=0) == records
    other_english, _ = generate_demo_records(240, seed=1)
    assert other_english != records[0]
    assert sum(a["report"] == b["report"] for a, b in zip(other_english, records[0], strict=True)) < 5


def test_german_share_and_size_are_honoured():
    english, german = generate_demo_records(40, seed=3, german_share=0.5)
    assert len(english) == 40 and len(german) == 20
    english, german = generate_demo_records(40, seed=3, german_share=0.0)
    assert german == []


def test_write_demo_files_writes_utf8_json_arrays(tmp_path):
    paths = write_demo_files(tmp_path / "out", n=30, seed=2)
    assert set(paths) == {"en", "de"}
    assert paths["en"].name == "en.json" and paths["de"].name == "de.json"
    english = json.loads(paths["en"].read_text(encoding="utf-8"))
    german = json.loads(paths["de"].read_text(encoding="utf-8"))
    assert (english, german) == tuple(generate_demo_records(30, seed=2))
    assert "ä" in paths["de"].read_text(encoding="utf-8") or "ü" in paths["de"].read_text(encoding="utf-8")


# --- commands ----------------------------------------------------------------------------


def test_generate_demo_data_prints_the_two_paths(run_cli, tmp_path):
    result = run_cli("generate_demo_data", "--out", tmp_path, "--n", "25", "--seed", "4")
    assert result.code == 0, result.err
    assert result.out.split() == [str(tmp_path / "en.json"), str(tmp_path / "de.json")]
    assert len(json.loads((tmp_path / "en.json").read_text(encoding="utf-8"))) == 25


def test_generate_demo_data_refuses_a_bad_count(run_cli, tmp_path):
    result = run_cli("generate_demo_data", "--out", tmp_path, "--n", "0")
    assert result.code == 1
    assert result.err_lines == ["error: --n: expected a positive number of records, got 0"]


@pytest.mark.django_db
def test_seed_demo_creates_project_people_and_linked_documents(run_cli, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    result = run_cli("seed_demo", "--n", "40")
    assert result.code == 0, result.err

    project = Project.objects.get(slug="demo")
    assert project.name == "ELMTEX demo"
    assert list(project.categories.order_by("order").values_list("key", flat=True)) == list(ELMTEX_KEYS)
    roles = dict(Membership.objects.filter(project=project).values_list("user__username", "role"))
    assert roles == {
        "researcher": "researcher",
        "reviewer": "reviewer",
        "annotator1": "annotator",
        "annotator2": "annotator",
    }
    User = get_user_model()
    for username in [*roles, "admin"]:
        assert User.objects.get(username=username).check_password("demo-password")
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff

    assert (tmp_path / "var" / "demo" / "en.json").is_file() and (tmp_path / "var" / "demo" / "de.json").is_file()
    docs = Document.objects.filter(project=project)
    assert docs.filter(language="en").count() == 40
    german = docs.filter(language="de")
    assert german.count() == 10
    assert Gold.objects.filter(document__project=project).count() == 50
    for doc in german:
        assert doc.translation_of is not None
        assert doc.translation_of.language == "en" and doc.translation_of.external_id == doc.external_id
        assert doc.split == doc.translation_of.split

    assert "imported 40 new" in result.out and "imported 10 new" in result.out
    assert "demo-password" in result.out and "DEMO-ONLY" in result.out
    for line in ("researcher", "reviewer", "annotator1", "annotator2", "admin"):
        assert line in result.out


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing(run_cli, tmp_path):
    args = ("seed_demo", "--slug", "demo2", "--n", "30", "--data-dir", tmp_path)
    assert run_cli(*args).code == 0
    User = get_user_model()

    def snapshot():
        return (
            Document.objects.count(),
            Gold.objects.count(),
            Membership.objects.count(),
            User.objects.count(),
            sorted(User.objects.values_list("username", "password")),
            sorted(Document.objects.values_list("external_id", "language", "content_hash", "updated_at")),
        )

    before = snapshot()
    again = run_cli(*args)
    assert again.code == 0, again.err
    assert snapshot() == before
    assert "en: " in again.out and "imported 0 new, 30 unchanged, 0 replaced" in again.out
    assert "imported 0 new, 8 unchanged, 0 replaced" in again.out
    assert "already present" in again.out
    assert again.out.count("unchanged") >= 5 + 2  # five people and two imports


@pytest.mark.django_db
def test_seed_demo_takes_the_password_from_the_environment(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_PW", "s3cret-demo-pass")
    result = run_cli("seed_demo", "--n", "10", "--data-dir", tmp_path, "--password-env", "DEMO_PW")
    assert result.code == 0, result.err
    assert get_user_model().objects.get(username="annotator1").check_password("s3cret-demo-pass")
    assert "s3cret-demo-pass" not in result.out
    assert "DEMO_PW" in result.out


@pytest.mark.django_db
def test_seed_demo_refuses_an_unset_password_variable(run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_DEMO_PW", raising=False)
    result = run_cli("seed_demo", "--data-dir", tmp_path, "--password-env", "NO_SUCH_DEMO_PW")
    assert result.code == 1
    assert "NO_SUCH_DEMO_PW is not set" in result.err
    assert not Project.objects.exists()


@pytest.mark.django_db
def test_seed_demo_leaves_existing_accounts_alone(run_cli, tmp_path):
    User = get_user_model()
    User.objects.create_user(username="reviewer", password="their-own-password")
    User.objects.create_user(username="admin", password="their-admin-password")
    result = run_cli("seed_demo", "--n", "10", "--data-dir", tmp_path)
    assert result.code == 0, result.err
    reviewer, admin = User.objects.get(username="reviewer"), User.objects.get(username="admin")
    assert reviewer.check_password("their-own-password") and admin.check_password("their-admin-password")
    assert not admin.is_superuser
    assert Membership.objects.get(user=reviewer, project__slug="demo").role == "reviewer"
    assert "left as it is" in result.out
