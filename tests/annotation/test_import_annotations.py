"""import_annotations / export_annotations (CLI.md "Annotations and agreement")."""

import json

import pytest

from annotation.models import Annotation, AnnotationRevision, Assignment
from tests.factories import AssignmentFactory, DocumentFactory

pytestmark = pytest.mark.django_db

TEXT = "A 40-year-old woman presented with fever and cough."


@pytest.fixture
def setup(project, make_member):
    DocumentFactory(project=project, external_id="1", text=TEXT)
    DocumentFactory(project=project, external_id="2", text=TEXT)
    DocumentFactory(project=project, external_id="1", language="de", text="Eine 40-jährige Frau mit Fieber.")
    return make_member(project, "annotator", "a1"), make_member(project, "annotator", "a2")


def _rec(pid="1", annotator="a1", **kw):
    return {"patient_id": pid, "annotator": annotator, "values": {"age": "40", "gender": "female"}} | kw


def _lines(*records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def test_import_creates_submitted_assignments_and_is_idempotent(run_cli, write, setup):
    path = write(
        "ann.jsonl",
        _lines(
            _rec(judgements={"age": "correct"}, spans={"age": [[2, 13]]}),
            _rec(pid=2, annotator="a2"),
            _rec(language="de", values={"age": "40"}),
        ),
    )
    result = run_cli("import_annotations", "p1", path)
    assert result.code == 0, result.err
    assert result.out.strip() == "imported 3 new, 0 unchanged, 0 replaced annotations (40 values set to N/A)"
    a = Annotation.objects.get(assignment__annotator__username="a1", assignment__document__language="en")
    assert a.source == "imported" and a.assignment.status == "submitted" and a.assignment.submitted_at
    assert a.values["age"] == "40" and a.values["diagnosis"] == "N/A" and a.spans == {"age": [[2, 13]]}
    again = run_cli("import_annotations", "p1", path)
    assert again.code == 0
    assert again.out.startswith("imported 0 new, 3 unchanged, 0 replaced")


def test_json_array_by_first_byte(run_cli, write, setup):
    path = write("ann.txt", json.dumps([_rec()]).encode())
    result = run_cli("import_annotations", "p1", path)
    assert result.code == 0 and result.out.startswith("imported 1 new")


def test_changed_content_needs_update(run_cli, write, setup):
    run_cli("import_annotations", "p1", write("a.jsonl", _lines(_rec())))
    changed = write("b.jsonl", _lines(_rec(values={"age": "41"})))
    refused = run_cli("import_annotations", "p1", changed)
    assert refused.code == 1
    assert "already annotated id '1' (language en) differently; pass --update" in refused.err
    ok = run_cli("import_annotations", "p1", changed, "--update")
    assert ok.code == 0 and ok.out.startswith("imported 0 new, 0 unchanged, 1 replaced")
    a = Annotation.objects.get()
    assert a.values["age"] == "41" and a.version == 2
    assert AnnotationRevision.objects.get().changes["values.age"] == ["40", "41"]


def test_existing_open_assignment_becomes_submitted(run_cli, write, setup, project):
    a1 = setup[0]
    doc = project.documents.get(external_id="1", language="en")
    AssignmentFactory(document=doc, project=project, annotator=a1)
    assert run_cli("import_annotations", "p1", write("a.jsonl", _lines(_rec()))).code == 0
    assert Assignment.objects.get().status == "submitted"


def test_problems_are_listed_and_nothing_is_written(run_cli, write, setup, outsider):
    path = write(
        "bad.jsonl",
        _lines(
            _rec(),
            _rec(pid="nope"),
            _rec(annotator="ghost"),
            _rec(annotator="outsider"),
            _rec(pid="2", values={"unknown_key": "x"}),
            _rec(pid="2", annotator="a2", judgements={"age": "wrong"}),
            _rec(pid="2", annotator="a2", spans={"age": [[0, 999]]}, language="en"),
            _rec(),
        )
        + b"{not json\n",
    )
    result = run_cli("import_annotations", "p1", path)
    assert result.code == 1
    lines = result.err_lines
    assert lines == [
        f"error: {path}: record 2 (line 2): patient_id: no document with id 'nope' (language en) in project 'p1'; import the dataset first",
        f"error: {path}: record 3 (line 3): annotator: no user 'ghost'; create it with add_member --create",
        f"error: {path}: record 4 (line 4): annotator: 'outsider' is not a member of project 'p1'; add them with add_member",
        f"error: {path}: record 5 (line 5): values.unknown_key: unknown category 'unknown_key' (not in the project schema: "
        + ", ".join(project_keys_of(setup))
        + ")",
        f"error: {path}: record 6 (line 6): judgements.age: expected one of correct, partially_correct, incorrect, missing, hallucinated, wrong_category, got 'wrong'",
        f"error: {path}: record 7 (line 7): spans.age[0]: [0, 999] ends past the end of the report ({len(TEXT)} characters)",
        f"error: {path}: record 8 (line 8): patient_id: duplicate annotation of id '1' (language en) by 'a1': also record 1 (line 1)",
        f"error: {path}: record 9 (line 9): invalid JSON: Expecting property name enclosed in double quotes (column 2)",
    ]
    assert not Annotation.objects.exists() and not Assignment.objects.exists()


def project_keys_of(setup):
    from annotation.schema import ELMTEX_CATEGORIES

    return [c.key for c in ELMTEX_CATEGORIES]


def test_more_than_twenty_problems(run_cli, write, setup):
    path = write("many.jsonl", _lines(*[_rec(pid=f"x{i}") for i in range(25)]))
    result = run_cli("import_annotations", "p1", path)
    assert result.code == 1 and len(result.err_lines) == 21
    assert result.err_lines[-1] == "error: ... and 5 more"


@pytest.mark.parametrize(
    ("record", "field", "message"),
    [
        ({"annotator": "a1", "values": {}}, "patient_id", "missing"),
        ({"patient_id": 1.5, "annotator": "a1"}, "patient_id", "expected a string or an integer"),
        ({"patient_id": "1", "annotator": 3}, "annotator", "expected a username"),
        ({"patient_id": "1", "annotator": "a1", "values": []}, "values", "expected an object"),
        (
            {"patient_id": "1", "annotator": "a1", "values": {"age": 40}},
            "values.age",
            "expected a string, got a number",
        ),
        (
            {"patient_id": "1", "annotator": "a1", "spans": {"age": [[3, 1]]}},
            "spans.age[0]",
            "expected 0 <= start < end",
        ),
        ({"patient_id": "1", "annotator": "a1", "spans": {"age": [["0", 1]]}}, "spans.age[0]", "whole numbers"),
        ({"patient_id": "1", "annotator": "a1", "extra": 1}, "extra", "unknown field"),
        ({"patient_id": "1", "annotator": "a1", "language": "English"}, "language", "expected a language code"),
    ],
)
def test_record_level_refusals(run_cli, write, setup, record, field, message):
    result = run_cli("import_annotations", "p1", write("r.jsonl", _lines(record)))
    assert result.code == 1
    assert f"record 1 (line 1): {field}: " in result.err and message in result.err


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("e.jsonl", b"", "no records"),
        ("e.json", b"[]", "no records"),
        ("e.json", b'{"patient_id": "1"}', "expected a JSON array of records"),
        ("e.json", b'[{"patient_id": "1", "annotator": "a1"}', "truncated"),
        ("e.jsonl", b"\xff\xfe{}", "not valid UTF-8"),
        ("e.csv", b"patient_id,annotator\n1,a1\n", "annotations are read from JSON"),
    ],
)
def test_file_level_refusals(run_cli, write, setup, name, data, message):
    result = run_cli("import_annotations", "p1", write(name, data))
    assert result.code == 1 and message in result.err and "Traceback" not in result.err


def test_usage_errors_exit_2(run_cli, setup):
    assert run_cli("import_annotations", "p1").code == 2
    assert run_cli("export_annotations", "p1").code == 2


def test_unknown_project(run_cli, write):
    result = run_cli("import_annotations", "nope", write("a.jsonl", _lines(_rec())))
    assert result.code == 1 and "project 'nope' does not exist" in result.err


def test_export_round_trips_through_import(run_cli, write, setup, tmp_path):
    records = [
        _rec(judgements={"age": "correct", "gender": "missing"}, spans={"age": [[2, 13]], "gender": [[14, 19]]}),
        _rec(pid=2, annotator="a2", values={"diagnosis": "fever; cough"}),
        _rec(language="de", annotator="a2"),
    ]
    assert run_cli("import_annotations", "p1", write("in.jsonl", _lines(*records))).code == 0
    out = tmp_path / "out.jsonl"
    result = run_cli("export_annotations", "p1", "--out", out)
    assert result.code == 0 and "exported 3 annotations" in result.err
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert [list(r) for r in exported] == [["patient_id", "language", "annotator", "values", "judgements", "spans"]] * 3
    first = exported[0]
    assert first["patient_id"] == "1" and first["language"] == "de"  # ordered by id, language, annotator
    assert exported[1]["spans"] == {"age": [[2, 13]], "gender": [[14, 19]]}
    assert len(exported[1]["values"]) == 15
    # Into a fresh copy: the same records come back out.
    Annotation.objects.all().delete()
    Assignment.objects.all().delete()
    assert run_cli("import_annotations", "p1", out).code == 0
    out2 = tmp_path / "out2.jsonl"
    assert run_cli("export_annotations", "p1", "--out", out2).code == 0
    assert out2.read_text() == out.read_text()
    # And re-importing the export into the same project changes nothing.
    assert run_cli("import_annotations", "p1", out2).out.startswith("imported 0 new, 3 unchanged")


def test_assign_documents_command(run_cli, write, setup, project):
    ids = write("ids.txt", b"1\n2\n")
    result = run_cli(
        "assign_documents",
        "p1",
        "--annotators",
        "a1,a2",
        "--overlap",
        "2",
        "--seed",
        "1",
        "--ids",
        ids,
        "--language",
        "en",
    )
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"created": 4, "reopened": 0, "documents": 2, "per_annotator": {"a1": 2, "a2": 2}}
    bad = run_cli("assign_documents", "p1", "--annotators", "a1,ghost")
    assert bad.code == 1 and "unknown users: ghost" in bad.err
    too_many = run_cli("assign_documents", "p1", "--annotators", "a1", "--overlap", "2")
    assert too_many.code == 1 and "overlap 2 needs at least 2 annotators" in too_many.err
