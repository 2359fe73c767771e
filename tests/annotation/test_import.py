"""import_dataset (CLI.md): every row of the accept/refuse table, through the command and
the service. A refusal exits 1, names file, record, line and field, and writes nothing.
Re-imports, --update, translations and all-or-nothing batches: test_import_existing.py;
CSV: test_import_csv.py."""

import codecs
import io
import json

import pytest
from django.test import override_settings

from annotation.models import Document, Gold, GoldOrigin
from annotation.schema import ELMTEX_KEYS, NA
from annotation.services.imports import dataset_import
from elmtex_site.errors import ApplicationError
from tests.factories import GoldFactory, ProjectFactory

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


# --- success ---------------------------------------------------------------------------------


def test_import_jsonl_prints_the_summary_line(import_file):
    records = [record(1), record("2"), record(3, with_summary=False)]
    path, result = import_file("data.jsonl", jsonl(records))
    assert result.code == 0, result.err
    assert result.out == success_line(new=3) + "\n"
    assert "Traceback" not in result.err
    assert counts() == (3, 2)
    doc = Document.objects.get(external_id="2")
    assert (doc.language, doc.split, doc.text) == ("en", "none", "Report of case 2.")
    assert gold_of("1") == summary(diagnosis="diagnosis 1", gender="female")
    assert Gold.objects.get(document=doc).origin == GoldOrigin.IMPORTED


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("data.json", json_array),
        ("data.jsonl", jsonl),
        ("data.ndjson", jsonl),
        ("data.txt", json_array),
        ("data.txt", jsonl),
        ("noext", jsonl),
    ],
)
def test_format_auto_by_extension_then_first_byte(import_file, name, build):
    _, result = import_file(name, build([record(1), record(2)]))
    assert (result.code, result.out) == (0, success_line(new=2) + "\n"), result.err


def test_format_auto_skips_long_leading_whitespace(import_file):
    _, result = import_file("data.txt", b" \n" * 100_000 + json_array([record(1)]))
    assert result.code == 0, result.err
    assert counts() == (1, 1)


@pytest.mark.parametrize("build", [json_array, jsonl])
def test_format_auto_on_standard_input(run_cli, project, build):
    result = run_cli("import_dataset", "p1", "-", stdin=b"\n  " + build([record(1), record(2)]))
    assert (result.code, result.out) == (0, success_line(new=2) + "\n"), result.err


def test_format_auto_on_a_stream_that_cannot_seek(project):
    class Pipe:
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def read(self, n=-1):
            return self.data.read(n)

    result = dataset_import(project=project, stream=Pipe(jsonl([record(1)])), name="<stdin>")
    assert (result.new, result.set_to_na) == (1, 0)
    with pytest.raises(ApplicationError) as info:
        dataset_import(project=project, stream=Pipe(b""), name="<stdin>")
    assert info.value.lines() == ["error: <stdin>: no records"]


def test_the_extension_wins_over_the_content(import_file):
    path, result = import_file("data.json", jsonl([record(1)]))
    assert_refused(result, before=(0, 0), path=path, line=1, problem="expected a JSON array of records")


def test_explicit_format_wins_over_the_extension(import_file):
    _, result = import_file("data.txt", jsonl([record(1)]), "--format", "jsonl")
    assert result.code == 0, result.err
    _, result = import_file("export.dat", b"patient_id,report\n7,r\n", "--format", "csv")
    assert result.code == 0, result.err
    assert counts() == (2, 1)


def test_format_that_cannot_be_told_is_refused(import_file, run_cli):
    path, result = import_file("data.txt", b"patient_id,report\n1,a\n")
    assert_refused(result, before=(0, 0), path=path, problem="cannot tell the format")
    assert "--format" in result.err


# --- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "build"), [("data.json", json_array), ("data.jsonl", jsonl), ("data.txt", jsonl)])
def test_utf8_with_bom_accepted(import_file, name, build):
    _, result = import_file(name, codecs.BOM_UTF8 + build([record(1, "Fieber – 39 °C, Übelkeit")]))
    assert result.code == 0, result.err
    assert Document.objects.get().text == "Fieber – 39 °C, Übelkeit"


@pytest.mark.parametrize("name", ["data.json", "data.jsonl", "data.txt", "data.csv"])
@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_refused_naming_the_byte_offset(import_file, name, codec):
    text = "patient_id,report\n1,a\n" if name.endswith(".csv") else json.dumps([record(1)])
    path, result = import_file(name, text.encode(codec))
    line = assert_refused(result, before=(0, 0), path=path, problem="not valid UTF-8")
    assert " at byte " in line


@pytest.mark.parametrize("name", ["data.json", "data.jsonl", "data.txt", "data.csv"])
@pytest.mark.parametrize("codec", ["utf-32", "utf-16"])  # "utf-32" writes FF FE 00 00, which starts like UTF-16's
def test_byte_order_mark_names_the_encoding_of_the_file(import_file, name, codec):
    text = "patient_id,report\n1,a\n" if name.endswith(".csv") else json.dumps([record(1)])
    path, result = import_file(name, text.encode(codec))
    assert_refused(result, before=(0, 0))
    assert result.err_lines == [
        f"error: {path}: not valid UTF-8 at byte 0: the file starts with a {codec.upper()} byte order mark; "
        "save the file as UTF-8"
    ]


def test_latin1_refused_naming_the_byte_offset(import_file):
    data = jsonl([record(1)]) + '{"patient_id": 2, "report": "Café"}\n'.encode("latin-1")
    path, result = import_file("data.jsonl", data)
    offset = data.index(b"\xe9")
    assert_refused(result, before=(0, 0), path=path, problem=f"not valid UTF-8 at byte {offset} (0xe9)")


def test_utf16_on_standard_input_refused_naming_the_byte_offset(run_cli, project):
    result = run_cli("import_dataset", "p1", "-", stdin=json.dumps([record(1)]).encode("utf-16"))
    assert_refused(result, before=(0, 0), path="<stdin>", problem="not valid UTF-8 at byte 0")


# --- empty, wrong shape, broken JSON ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("data.json", b""),
        ("data.json", b"[]"),
        ("data.json", b" [ \n ] \n"),
        ("data.jsonl", b""),
        ("data.jsonl", b"\n\n"),
        ("data.csv", b""),
        ("data.csv", b"patient_id,report\n"),
        ("data.txt", b""),
        ("data.txt", b"[]"),
        ("data.txt", codecs.BOM_UTF8 + b"  \n"),
    ],
)
def test_no_records_refused(import_file, name, data):
    path, result = import_file(name, data)
    assert_refused(result, before=(0, 0))
    assert result.err_lines == [f"error: {path}: no records"]


def test_no_records_on_standard_input(run_cli, project):
    result = run_cli("import_dataset", "p1", "-", stdin=b"")
    assert result.code == 1 and result.err_lines == ["error: <stdin>: no records"]


def test_json_object_where_an_array_is_expected(import_file):
    path, result = import_file("data.json", json.dumps(record(1)).encode())
    assert_refused(result, before=(0, 0), path=path, line=1, problem="expected a JSON array of records")


@pytest.mark.parametrize(
    ("tail", "record_no", "line", "problem"),
    [
        ('{"patient_id": 3, "report": tru}\n]', 3, 4, "invalid JSON"),
        ('{"patient_id": 3, "report": "cut off', 3, 4, "invalid JSON"),
        ('{"patient_id": 3, "report": "r"}', 3, 4, "truncated"),
        ('{"patient_id": 3,\n "report": "r",}\n]', 3, 5, "invalid JSON"),
    ],
)
def test_invalid_or_truncated_json_names_the_record_and_line(import_file, tail, record_no, line, problem):
    data = json_array([record(1), record(2)]).decode().rstrip().removesuffix("]") + "," + tail
    data = data.replace("\n,", ",\n")
    path, result = import_file("data.json", data.encode())
    assert_refused(result, before=(0, 0), path=path, record=None, line=None)
    assert any(
        e.startswith(f"error: {path}: record {record_no} (line {line}): ") and problem in e for e in result.err_lines
    ), result.err


def test_bad_json_lines_are_all_reported(import_file):
    lines = [
        json.dumps(record(1)),
        '{"patient_id": 2, "report": "x"',
        json.dumps(record(3)),
        json.dumps({"patient_id": 4}),
        "",
        "not json",
        json.dumps(record(5)),
    ]
    path, result = import_file("data.jsonl", "\n".join(lines).encode())
    assert_refused(result, before=(0, 0), path=path, record=2, line=2, field=None)
    assert result.err_lines[0].startswith(f"error: {path}: record 2 (line 2): invalid JSON")
    assert result.err_lines[1] == (
        f"error: {path}: record 4 (line 4): report: missing; every record needs the report text"
    )
    assert result.err_lines[2].startswith(f"error: {path}: record 5 (line 6): invalid JSON")
    assert len(result.err_lines) == 3


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(("name", "depth"), [("data.jsonl", 31), ("data.json", 30)])
def test_nesting_deeper_than_32_levels_refused(import_file, name, depth):
    ok = dict(record(1), extra=json.loads(nested(depth)))
    deep = dict(record(2), extra=json.loads(nested(depth + 1)))
    build = jsonl if name == "data.jsonl" else json_array
    _, result = import_file(name, build([ok]))
    assert result.code == 0, result.err
    path, result = import_file(name, build([record(3), deep]))
    assert_refused(
        result,
        before=(1, 1),
        path=path,
        record=2,
        line=2 + (name == "data.json"),
        field=None,
        problem="nesting deeper than 32 levels",
    )


@pytest.mark.parametrize("name", ["data.json", "data.jsonl"])
def test_100000_levels_of_nesting_are_refused_without_a_crash(import_file, name):
    body = '{"patient_id": 1, "report": "r", "x": ' + nested(100_000) + "}"
    data = f"[\n{body}\n]" if name == "data.json" else body + "\n"
    path, result = import_file(name, data.encode())
    assert_refused(
        result,
        before=(0, 0),
        path=path,
        record=1,
        line=1 + (name == "data.json"),
        field=None,
        problem="nesting deeper than 32 levels",
    )


@pytest.mark.parametrize(
    "text",
    [
        '{"patient_id": 2, "report": "a\\u0000b"}',
        '{"patient_id": 2, "report": "a", "title": "\\ud800"}',
        '{"patient_id": 2, "report": "a", "score": NaN}',
    ],
)
def test_values_no_database_can_store_are_refused(import_file, text):
    path, result = import_file("data.jsonl", jsonl([record(1)]) + text.encode() + b"\n")
    assert_refused(result, before=(0, 0), path=path, record=2, line=2, field=None)


@pytest.mark.parametrize("name", ["data.json", "data.jsonl"])
@pytest.mark.parametrize(
    "extra",
    [
        {"score": "1e400"},  # metadata: a float column or jsonb would refuse it, or worse
        {"scores": "[1, -1e400]"},
        {"summary": '{"age": 1e400}'},
        {"patient_id": "-1E+999"},
    ],
)
def test_numbers_too_large_for_a_float_are_refused(import_file, name, extra):
    # Python reads 1e400 as infinity, which JSON cannot hold: a record error like any
    # other, located, before anything reaches the database.
    (key, raw), sentinel = next(iter(extra.items())), "3.25e-7"
    bad = json.dumps(record(2, "Secret report text.", **{key: sentinel})).replace(json.dumps(sentinel), raw)
    good = [json.dumps(record(1)), bad, json.dumps(record(3))]
    data = ("[\n" + ",\n".join(good) + "\n]\n") if name == "data.json" else "\n".join(good) + "\n"
    path, result = import_file(name, data.encode())
    line = assert_refused(
        result,
        before=(0, 0),
        path=path,
        record=2,
        line=2 + (name == "data.json"),
        field=None,
        problem="invalid JSON: number out of range (",
    )
    assert len(result.err_lines) == 1 and "Secret report" not in line, result.err
    assert not Document.objects.exists()


# --- size limit --------------------------------------------------------------------------------


def test_file_over_the_size_limit_refused(import_file):
    data = jsonl([record(i) for i in range(1, 50)])
    with override_settings(ELMTEX_IMPORT_MAX_BYTES=len(data) - 1):
        path, result = import_file("data.jsonl", data)
    assert_refused(result, before=(0, 0), path=path, problem="ELMTEX_IMPORT_MAX_BYTES")
    with override_settings(ELMTEX_IMPORT_MAX_BYTES=len(data)):
        _, result = import_file("data.jsonl", data)
    assert result.code == 0, result.err


def test_standard_input_over_the_size_limit_refused(run_cli, project):
    data = jsonl([record(i) for i in range(1, 5000)])
    with override_settings(ELMTEX_IMPORT_MAX_BYTES=len(data) // 3):
        result = run_cli("import_dataset", "p1", "-", stdin=data)
    assert_refused(result, before=(0, 0), path="<stdin>", problem="ELMTEX_IMPORT_MAX_BYTES")


# --- patient_id ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "is null"),
        ("", "is blank"),
        ("  ", "is blank"),
        (True, "got a boolean"),
        (False, "got a boolean"),
        (1.5, "fraction or exponent"),
        (2.0, "fraction or exponent"),
        ({"id": 2}, "got an object"),
        ([2], "got a list"),
    ],
)
@pytest.mark.parametrize("build", [jsonl, json_array])
def test_bad_patient_id_refused(import_file, value, problem, build):
    name = "data.jsonl" if build is jsonl else "data.json"
    path, result = import_file(name, build([record(1), record(value)]))
    line = 2 + (build is json_array)
    assert_refused(result, before=(0, 0), path=path, record=2, line=line, field="patient_id", problem=problem)


def test_missing_patient_id_refused(import_file):
    rec = record(2)
    del rec["patient_id"]
    path, result = import_file("data.jsonl", jsonl([record(1), rec]))
    assert_refused(result, before=(0, 0), path=path, record=2, line=2, field="patient_id", problem="missing")


def test_integer_and_string_ids_are_the_same_id(import_file):
    path, result = import_file("data.jsonl", jsonl([record(1), record("1", "other text")]))
    line = assert_refused(result, before=(0, 0), path=path, record=2, line=2, field="patient_id", problem="duplicate")
    assert "record 1 (line 1)" in line.removeprefix(f"error: {path}: record 2 (line 2)")


def test_integer_id_is_stored_and_then_matched_as_string(import_file):
    import_file("a.jsonl", jsonl([record(1)]))
    assert Document.objects.get().external_id == "1"
    _, result = import_file("b.jsonl", jsonl([record("1")]))
    assert result.out == success_line(unchanged=1) + "\n"


def test_same_id_twice_names_both_records(import_file):
    records = [record(1), record(2), record(3), record(2, "again")]
    path, result = import_file("data.json", json_array(records))
    line = assert_refused(
        result, before=(0, 0), path=path, record=4, line=5, field="patient_id", problem="duplicate id '2'"
    )
    assert "also record 2 (line 3)" in line
    assert len(result.err_lines) == 1


def test_same_id_in_two_languages_is_fine(import_file):
    _, result = import_file("data.jsonl", jsonl([record(1), record(1, "Bericht", language="de")]))
    assert result.out == success_line(new=2) + "\n"
    assert sorted(Document.objects.values_list("external_id", "language")) == [("1", "de"), ("1", "en")]


def test_same_id_and_language_twice_via_field_and_flag(import_file):
    path, result = import_file("data.jsonl", jsonl([record(1, language="de"), record(1)]), "--language", "de")
    assert_refused(result, before=(0, 0), path=path, record=2, line=2, field="patient_id", problem="duplicate")


# --- report ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "is null"),
        (5, "expected a string, got a number"),
        (["a"], "got a list"),
        ({"t": "a"}, "got an object"),
        (True, "got a boolean"),
        ("", "is blank"),
        (" \n\t", "is blank"),
    ],
)
def test_bad_report_refused(import_file, value, problem):
    path, result = import_file("data.jsonl", jsonl([record(1), record(2, value)]))
    assert_refused(result, before=(0, 0), path=path, record=2, line=2, field="report", problem=problem)


def test_missing_report_refused(import_file):
    path, result = import_file("data.jsonl", jsonl([record(1), {"patient_id": 2, "summary": summary()}]))
    assert_refused(result, before=(0, 0), path=path, record=2, line=2, field="report", problem="missing")


def test_report_is_stored_as_given(import_file):
    text = '  Line one.\n\tLine "two", with ümlauts – and a tab.\n'
    import_file("data.jsonl", jsonl([record(1, text)]))
    assert Document.objects.get().text == text


# --- summary ---------------------------------------------------------------------------------


def test_partial_summary_counts_the_values_set_to_na(import_file):
    _, result = import_file(
        "data.jsonl",
        jsonl([record(1, summary={"diagnosis": "flu"}), record(2, summary={"diagnosis": "flu", "age": None})]),
    )
    assert result.out == success_line(new=2, na=28) + "\n"


def test_summary_absent_gives_a_document_without_gold(import_file):
    _, result = import_file("data.jsonl", jsonl([record(1, with_summary=False)]))
    assert result.out == success_line(new=1) + "\n"
    assert counts() == (1, 0)


@pytest.mark.parametrize(
    ("value", "kind"), [("flu", "a string"), (["flu"], "a list"), (1, "a number"), (None, "null"), (False, "a boolean")]
)
def test_summary_not_an_object_refused(import_file, value, kind):
    path, result = import_file("data.jsonl", jsonl([record(1), record(2, summary=value)]))
    assert_refused(
        result, before=(0, 0), path=path, record=2, line=2, field="summary", problem=f"expected an object, got {kind}"
    )


def test_unknown_summary_key_refused(import_file):
    rec = record(2, summary=dict(summary(), mood="fine"))
    path, result = import_file("data.jsonl", jsonl([record(1), rec]))
    assert_refused(result, before=(0, 0), path=path, record=2, line=2, field="summary.mood", problem="--drop-unknown")


def test_unknown_summary_keys_dropped_and_counted(import_file):
    recs = [
        record(1, summary=dict(summary(diagnosis="flu"), mood="fine", ward=None)),
        record(2, summary=dict(summary(), mood="x")),
    ]
    _, result = import_file("data.jsonl", jsonl(recs), "--drop-unknown")
    assert result.out == success_line(new=2, dropped=3) + "\n"
    assert gold_of("1") == summary(diagnosis="flu")


@pytest.mark.parametrize(
    ("value", "kind"),
    [(["a", "b"], "a list"), (3, "a number"), (0.5, "a number"), (True, "a boolean"), ({"a": "b"}, "an object")],
)
def test_summary_value_of_the_wrong_type_refused(import_file, value, kind):
    rec = record(2, summary=dict(summary(), diagnosis=value))
    path, result = import_file("data.json", json_array([record(1), rec]))
    assert_refused(
        result,
        before=(0, 0),
        path=path,
        record=2,
        line=3,
        field="summary.diagnosis",
        problem=f"expected a string, got {kind}",
    )


def test_null_blank_and_missing_summary_values_stored_as_na_and_counted(import_file):
    values = {key: f"value {key}" for key in ELMTEX_KEYS}
    values.update(diagnosis=None, gender="", age="   ")
    del values["pathology"], values["life_style"]
    _, result = import_file("data.jsonl", jsonl([record(1, summary=values)]))
    assert result.out == success_line(new=1, na=5) + "\n"
    stored = gold_of("1")
    assert set(stored) == set(ELMTEX_KEYS)  # (PostgreSQL jsonb does not keep key order)
    assert [stored[k] for k in ("diagnosis", "gender", "age", "pathology", "life_style")] == [NA] * 5
    assert stored["comorbidities"] == "value comorbidities"


def test_summary_values_are_stored_stripped(import_file):
    import_file("data.jsonl", jsonl([record(1, summary={"diagnosis": "  flu \n"})]))
    assert gold_of("1")["diagnosis"] == "flu"


# --- metadata, language, split ------------------------------------------------------------------


def test_other_top_level_keys_kept_as_metadata(import_file):
    rec = record(1, title="A case of fever", pmid=12345, authors=["A", "B"], extra={"x": None})
    import_file("data.jsonl", jsonl([rec]))
    assert Document.objects.get().metadata == {
        "title": "A case of fever",
        "pmid": 12345,
        "authors": ["A", "B"],
        "extra": {"x": None},
    }


def test_language_and_split_fields_override_the_flags(import_file):
    recs = [record(1), record(2, language="en", split="test"), record(3, split="validation")]
    _, result = import_file("data.jsonl", jsonl(recs), "--language", "de", "--split", "train")
    assert result.code == 0, result.err
    got = sorted(Document.objects.values_list("external_id", "language", "split"))
    assert got == [("1", "de", "train"), ("2", "en", "test"), ("3", "de", "val")]


@pytest.mark.parametrize(("field", "value"), [("language", "English please"), ("split", "holdout"), ("language", 1)])
def test_bad_language_or_split_field_refused(import_file, field, value):
    path, result = import_file("data.jsonl", jsonl([record(1), record(2, **{field: value})]))
    assert_refused(result, before=(0, 0), path=path, record=2, line=2, field=field)


@pytest.mark.parametrize(("flag", "value"), [("--language", "english"), ("--split", "holdout")])
def test_bad_language_or_split_flag_refused(import_file, flag, value):
    _, result = import_file("data.jsonl", jsonl([record(1)]), flag, value)
    assert_refused(result, before=(0, 0))
    assert result.err_lines[0].startswith(f"error: {flag.removeprefix('--')}: expected ")
    assert repr(value) in result.err_lines[0]


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [("language", "english", "language code"), ("split", "holdout", "train, val, test, none"), ("fmt", "xml", "")],
)
def test_bad_option_is_a_problem_with_a_field(project, option, value, words):
    # The API answers with these problems: a client finds the bad field by name.
    with pytest.raises(ApplicationError) as info:
        dataset_import(project=project, stream=io.BytesIO(jsonl([record(1)])), name="mem.jsonl", **{option: value})
    field = "format" if option == "fmt" else option
    [problem] = info.value.problems
    assert (problem.field, problem.file, problem.record) == (field, None, None)
    assert words in problem.message and repr(value) in problem.message
    assert info.value.message == f"{field}: {problem.message}"
    assert info.value.lines() == [f"error: {field}: {problem.message}"]


# --- the service and the command around it ------------------------------------------------------


def test_service_returns_the_counts(project):
    result = dataset_import(project=project, stream=io.BytesIO(jsonl([record(1)])), name="mem.jsonl")
    assert (result.new, result.unchanged, result.replaced, result.set_to_na, result.dropped) == (1, 0, 0, 0, 0)
    assert result.summary_line() == success_line(new=1)


def test_service_refusal_carries_located_problems(project):
    with pytest.raises(ApplicationError) as info:
        dataset_import(project=project, stream=io.BytesIO(jsonl([record(1), record(2, "")])), name="mem.jsonl")
    [problem] = info.value.problems
    assert (problem.file, problem.record, problem.line, problem.field) == ("mem.jsonl", 2, 2, "report")
    assert info.value.lines() == ["error: mem.jsonl: record 2 (line 2): report: is blank"]


def test_unknown_project_refused(run_cli, write, db):
    path = write("data.jsonl", jsonl([record(1)]))
    result = run_cli("import_dataset", "nope", str(path))
    assert result.code == 1
    assert result.err_lines == ["error: project 'nope' does not exist; create it with create_project"]


@pytest.mark.parametrize("target", ["missing.jsonl", "."])
def test_unreadable_file_refused(run_cli, project, tmp_path, target):
    path = tmp_path / target
    result = run_cli("import_dataset", "p1", str(path))
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err_lines[0].startswith(f"error: {path}: ")


@pytest.mark.parametrize("args", [(), ("p1",), ("p1", "x.json", "--format", "xml"), ("p1", "x.json", "--bogus")])
def test_usage_errors_exit_2(run_cli, project, args):
    result = run_cli("import_dataset", *args)
    assert result.code == 2 and "Traceback" not in result.err


def test_other_projects_are_untouched(import_file):
    other = ProjectFactory(slug="p2")
    GoldFactory(document__project=other, document__external_id="1")
    _, result = import_file("data.jsonl", jsonl([record(1)]))
    assert result.out == success_line(new=1) + "\n"
    assert Document.objects.filter(external_id="1").count() == 2
