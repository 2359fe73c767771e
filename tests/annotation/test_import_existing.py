"""import_dataset into a project that already holds documents (CLI.md): unchanged,
refused or --update'd records, adjudicated gold, translation links, and all-or-nothing
when a bad record comes after whole batches were written."""

import pytest

from annotation.models import Document, Gold, GoldOrigin
from annotation.pipeline.readers import CHUNK_BYTES
from annotation.services import imports
from tests.factories import DocumentFactory, ProjectFactory

from .import_helpers import (
    assert_refused,
    counts,
    gold_of,
    json_array,
    jsonl,
    record,
    success_line,
    summary,
)

pytestmark = pytest.mark.django_db


# --- existing documents ---------------------------------------------------------------------------


def test_reimport_of_the_same_content_is_unchanged(import_file):
    data = jsonl([record(1), record(2, title="t"), record(3, with_summary=False)])
    import_file("data.jsonl", data)
    before = counts()
    _, result = import_file("data.jsonl", data)
    assert result.out == success_line(unchanged=3) + "\n"
    assert counts() == before
    # the same records in another format and with int/str ids swapped are the same content
    _, result = import_file(
        "data.json", json_array([record("1"), record("2", title="t"), record(3, with_summary=False)])
    )
    assert result.out == success_line(unchanged=3) + "\n"


def test_reimport_with_more_records_adds_only_those(import_file):
    import_file("a.jsonl", jsonl([record(1), record(2)]))
    _, result = import_file("b.jsonl", jsonl([record(1), record(2), record(3)]))
    assert result.out == success_line(new=1, unchanged=2) + "\n"


def test_reimport_reports_the_same_na_and_dropped_counts(import_file):
    # The counts describe how the file was read: the same file gives the same figures,
    # whether its records are new, unchanged or replaced.
    recs = [
        record(1, summary={"diagnosis": "flu", "mood": "fine"}),  # 14 keys missing, 1 dropped
        record(2, summary=dict(summary(), age=None, ward="3")),  # 1 null, 1 dropped
        record(3, with_summary=False),
    ]
    _, result = import_file("a.jsonl", jsonl(recs), "--drop-unknown")
    assert result.out == success_line(new=3, na=15, dropped=2) + "\n"
    _, result = import_file("a.jsonl", jsonl(recs), "--drop-unknown")
    assert result.out == success_line(unchanged=3, na=15, dropped=2) + "\n"
    recs[0]["report"] = "Changed text."
    _, result = import_file("b.jsonl", jsonl([*recs, record(4, summary={"gender": ""})]), "--drop-unknown", "--update")
    assert result.out == success_line(new=1, unchanged=2, replaced=1, na=30, dropped=2) + "\n"


@pytest.mark.parametrize(
    "change",
    [
        {"report": "Another text."},
        {"summary": summary(diagnosis="other")},
        {"title": "new metadata"},
        {"split": "test"},
    ],
)
def test_different_content_refused_without_update(import_file, change):
    import_file("a.jsonl", jsonl([record(1), record(2)]))
    before = counts()
    path, result = import_file("b.jsonl", jsonl([record(3), {**record(2), **change}]))
    assert_refused(result, before=before, path=path, record=2, line=2, field="patient_id", problem="--update")
    assert not Document.objects.filter(external_id="3").exists()


def test_update_replaces_changed_documents(import_file):
    import_file("a.jsonl", jsonl([record(1), record(2), record(3), record(4, with_summary=False)]))
    changed = [
        record(1),
        record(2, "New text.", summary=summary(diagnosis="new")),
        record(3, with_summary=False),
        record(4, summary=summary(age="40 years")),
        record(5),
    ]
    _, result = import_file("b.jsonl", jsonl(changed), "--update")
    assert result.out == success_line(new=1, unchanged=1, replaced=3) + "\n"
    assert Document.objects.get(external_id="2").text == "New text."
    assert gold_of("2") == summary(diagnosis="new")
    assert not Gold.objects.filter(document__external_id="3").exists()
    assert gold_of("4") == summary(age="40 years")
    # and the same file again is now unchanged
    _, result = import_file("b.jsonl", jsonl(changed), "--update")
    assert result.out == success_line(unchanged=5) + "\n"


def test_update_never_overwrites_adjudicated_gold(import_file):
    import_file("a.jsonl", jsonl([record(1), record(2)]))
    gold = Gold.objects.get(document__external_id="1")
    adjudicated = summary(diagnosis="adjudicated diagnosis")
    gold.values, gold.origin = adjudicated, GoldOrigin.ADJUDICATED
    gold.save()
    changed = [
        record(1, "Corrected text.", summary=summary(diagnosis="imported again")),
        record(2, summary=summary(diagnosis="replaced")),
    ]
    _, result = import_file("b.jsonl", jsonl(changed), "--update")
    assert result.code == 0, result.err
    assert "2 replaced" in result.out
    gold.refresh_from_db()
    assert (gold.values, gold.origin) == (adjudicated, GoldOrigin.ADJUDICATED)
    assert Document.objects.get(external_id="1").text == "Corrected text."
    assert gold_of("2") == summary(diagnosis="replaced")
    # a record without summary does not remove adjudicated gold either
    import_file("c.jsonl", jsonl([record(1, "Third text.", with_summary=False)]), "--update")
    gold.refresh_from_db()
    assert gold.values == adjudicated


def test_unchanged_document_with_adjudicated_gold_stays_unchanged(import_file):
    data = jsonl([record(1)])
    import_file("a.jsonl", data)
    Gold.objects.update(values=summary(diagnosis="adjudicated"), origin=GoldOrigin.ADJUDICATED)
    _, result = import_file("a.jsonl", data)
    assert result.out == success_line(unchanged=1) + "\n"


# --- translations ---------------------------------------------------------------------------------


def test_german_record_linked_to_its_english_original(import_file):
    import_file("en.jsonl", jsonl([record(1), record(2)]))
    _, result = import_file("de.jsonl", jsonl([record(1, "Bericht 1"), record(3, "Bericht 3")]), "--language", "de")
    assert result.code == 0, result.err
    english = Document.objects.get(external_id="1", language="en")
    assert Document.objects.get(external_id="1", language="de").translation_of == english
    assert Document.objects.get(external_id="3", language="de").translation_of is None
    assert english.translation_of is None


def test_german_imported_first_is_linked_when_english_arrives(import_file):
    import_file("de.jsonl", jsonl([record(1, "Bericht 1"), record(2, "Bericht 2")]), "--language", "de")
    assert not Document.objects.filter(translation_of__isnull=False).exists()
    import_file("en.jsonl", jsonl([record(2), record(1)]))
    for pid in ("1", "2"):
        german = Document.objects.get(external_id=pid, language="de")
        assert german.translation_of == Document.objects.get(external_id=pid, language="en")


def test_translation_in_the_same_file(import_file):
    import_file("both.jsonl", jsonl([record(1, "Bericht", language="de"), record(1)]))
    assert Document.objects.get(language="de").translation_of == Document.objects.get(language="en")


def test_translations_link_only_within_the_project(import_file):
    other = ProjectFactory(slug="p2")
    DocumentFactory(project=other, external_id="1", language="en")
    import_file("de.jsonl", jsonl([record(1, "Bericht")]), "--language", "de")
    assert Document.objects.get(project__slug="p1").translation_of is None


def test_translations_link_touches_only_documents_with_an_original(import_file, project):
    import_file("de.jsonl", jsonl([record(i, f"Bericht {i}") for i in (1, 2, 3)]), "--language", "de")
    # German documents without an English original are left alone, not rewritten each time
    assert imports.translations_link(project=project) == 0
    import_file("en.jsonl", jsonl([record(2)]))
    assert Document.objects.get(external_id="2", language="de").translation_of.language == "en"
    assert Document.objects.filter(translation_of__isnull=True, language="de").count() == 2
    assert imports.translations_link(project=project) == 0


# --- the database refuses a write ------------------------------------------------------------------


def test_a_row_written_meanwhile_refuses_the_import_with_a_clear_message(import_file, monkeypatch):
    """Another writer adds one of the file's ids while the import runs (e.g. an edit, or a
    second import on a database without row locks): a clean refusal, not a crash."""
    insert = imports.documents_insert

    def insert_after_a_clashing_row(*, project_id, records):
        DocumentFactory(project_id=project_id, external_id=records[-1].external_id, text="written meanwhile")
        return insert(project_id=project_id, records=records)

    monkeypatch.setattr(imports, "documents_insert", insert_after_a_clashing_row)
    DocumentFactory(project__slug="p0")
    before = counts()
    path, result = import_file("data.jsonl", jsonl([record(i, f"Private report {i}.") for i in range(1, 4)]))
    line = assert_refused(result, before=before, path=path, field=None, problem="changed while the file was imported")
    assert result.err_lines == [line], result.err
    assert "run the import again" in line and "Private report" not in line and "unexpected" not in line
    assert not Document.objects.filter(project__slug="p1").exists()


# --- many problems, all or nothing ------------------------------------------------------------------


def test_more_than_20_problems_lists_20_then_the_count(import_file):
    recs = [record(i) if i % 2 else record(i, "") for i in range(1, 61)]  # 30 blank reports
    path, result = import_file("data.jsonl", jsonl(recs))
    assert_refused(result, before=(0, 0))
    assert len(result.err_lines) == 21
    assert result.err_lines[0] == f"error: {path}: record 2 (line 2): report: is blank"
    assert result.err_lines[19] == f"error: {path}: record 40 (line 40): report: is blank"
    assert result.err_lines[20] == "error: ... and 10 more"


def test_exactly_20_problems_has_no_more_line(import_file):
    recs = [record(i, "") for i in range(1, 21)]
    _, result = import_file("data.jsonl", jsonl(recs))
    assert len(result.err_lines) == 20 and "more" not in result.err


@pytest.fixture
def flushes(monkeypatch):
    """Counts bulk writes, to prove a batch reached the database before the refusal."""
    calls = []
    flush = imports._Writer.flush

    def counting_flush(self):
        if self.new or self.replace:
            calls.append(len(self.new) + len(self.replace))
        return flush(self)

    monkeypatch.setattr(imports._Writer, "flush", counting_flush)
    return calls


def big_records(n: int, start: int = 1):
    return [record(i, f"Report {i}: " + "fever and cough " * 10) for i in range(start, start + n)]


@pytest.mark.parametrize(
    ("name", "build", "bad", "problem"),
    [
        ("data.jsonl", jsonl, jsonl([record(5001, "")]), "report: is blank"),
        ("data.jsonl", jsonl, b'{"patient_id": 5001, "report": \n', "invalid JSON"),
        ("data.jsonl", jsonl, jsonl([record(17)]), "duplicate id '17'"),
        ("data.json", json_array, None, "truncated"),
        ("data.jsonl", jsonl, '{"patient_id": 5001, "report": "Caf\xe9"}\n'.encode("latin-1"), "not valid UTF-8"),
    ],
)
def test_bad_record_after_5000_good_ones_rolls_everything_back(import_file, flushes, name, build, bad, problem):
    DocumentFactory(project__slug="p0")  # something else in the database, untouched
    before = counts()
    data = build(big_records(5000))
    data = data.rstrip().removesuffix(b"]") + b"," if bad is None else data + bad
    assert len(data) > 2 * CHUNK_BYTES  # the bad bytes come several read chunks after the first
    path, result = import_file(name, data)
    assert flushes, "no batch was written before the bad record; the test proves nothing"
    assert_refused(result, before=before, path=path, problem=problem)
    assert not Document.objects.filter(project__slug="p1").exists()


def test_conflict_after_5000_new_ones_rolls_back_and_names_the_record(import_file, flushes):
    import_file("a.jsonl", jsonl([record(9999)]))
    before = counts()
    path, result = import_file("b.jsonl", jsonl(big_records(5000) + [record(9999, "changed")]))
    assert flushes
    assert_refused(result, before=before, path=path, record=5001, line=5001, field="patient_id", problem="--update")


def test_update_then_failure_rolls_back_the_replacements(import_file, flushes):
    import_file("a.jsonl", jsonl(big_records(2500)))
    before = counts()
    changed = [record(i, f"changed {i}") for i in range(1, 2501)] + [{"patient_id": 2501, "report": None}]
    path, result = import_file("b.jsonl", jsonl(changed), "--update")
    assert flushes
    assert_refused(result, before=before, path=path, record=2501, line=2501, field="report")
    assert not Document.objects.filter(text__startswith="changed").exists()


def test_large_import_succeeds_in_batches(import_file):
    _, result = import_file("data.jsonl", jsonl(big_records(5000)))
    assert result.out == success_line(new=5000) + "\n"
    assert counts() == (5000, 5000)


# --- metadata and exports of the same project -----------------------------------------------------


def test_reimport_of_an_export_into_its_own_project_is_unchanged(import_file, run_cli, tmp_path):
    """An export (no metadata keys) of records that had metadata changes nothing."""
    import_file("a.jsonl", jsonl([record(1, title="Case one", pmid=123), record(2, title="Case two")]))
    out = tmp_path / "gold.jsonl"
    assert run_cli("export_gold", "p1", "--out", str(out)).code == 0
    before = counts()
    result = run_cli("import_dataset", "p1", str(out))
    assert result.code == 0, result.err
    assert result.out == success_line(unchanged=2) + "\n"
    assert counts() == before
    assert Document.objects.get(external_id="1").metadata == {"title": "Case one", "pmid": 123}


def test_update_without_metadata_keeps_stored_metadata(import_file):
    import_file("a.jsonl", jsonl([record(1, title="Case one")]))
    _, result = import_file("b.jsonl", jsonl([record(1, "Corrected text.")]), "--update")
    assert result.out == success_line(replaced=1) + "\n"
    doc = Document.objects.get(external_id="1")
    assert (doc.text, doc.metadata) == ("Corrected text.", {"title": "Case one"})
    _, result = import_file("c.jsonl", jsonl([record(1, "Corrected text.", title="Renamed")]), "--update")
    assert result.out == success_line(replaced=1) + "\n"
    assert Document.objects.get(external_id="1").metadata == {"title": "Renamed"}


def test_update_raises_the_gold_version_and_records_what_changed(import_file):
    from annotation.models import GoldRevision

    import_file("a.jsonl", jsonl([record(1), record(2)]))
    changed = {**record(1), "summary": summary(diagnosis="pneumonia", gender="female")}
    _, result = import_file("b.jsonl", jsonl([changed, record(2)]), "--update")
    assert result.code == 0, result.err
    gold = Gold.objects.get(document__external_id="1")
    assert gold.version == 2 and gold.values["diagnosis"] == "pneumonia"
    revision = GoldRevision.objects.get(document=gold.document)
    assert revision.version == 2 and revision.origin == "imported"
    assert revision.changes == {"diagnosis": ["diagnosis 1", "pneumonia"]}
    # the unchanged record keeps its version and gets no revision
    assert Gold.objects.get(document__external_id="2").version == 1
    assert GoldRevision.objects.count() == 1
