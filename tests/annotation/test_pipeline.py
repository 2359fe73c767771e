"""The pure import pipeline: streaming readers (annotation/pipeline/readers.py) and the
accept/refuse table of CLI.md import_dataset (annotation/pipeline/records.py)."""

import codecs
import inspect
import io
import json

import pytest

from annotation.pipeline import readers
from annotation.pipeline.readers import (
    CHUNK_BYTES,
    ReadError,
    detect_format,
    read_csv,
    read_json_array,
    read_json_lines,
    utf8_chunks,
)
from annotation.pipeline.records import RecordOptions, parse_record
from annotation.schema import ELMTEX_KEYS, NA

from .import_helpers import CountingStream

OPTS = RecordOptions(schema_keys=ELMTEX_KEYS)


def pieces(text: str, size: int | None = None):
    """The text as an iterator of chunks of ``size`` characters (one chunk if None)."""
    if size is None:
        yield text
        return
    for i in range(0, len(text), size):
        yield text[i : i + size]


def decode(data: bytes, chunk_bytes: int = CHUNK_BYTES) -> str:
    return "".join(utf8_chunks(io.BytesIO(data), chunk_bytes=chunk_bytes))


def read(reader, text: str, size: int | None = None) -> list:
    return list(reader(pieces(text, size)))


# --- utf8_chunks -------------------------------------------------------------------


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, CHUNK_BYTES])
def test_utf8_accepted_with_and_without_bom(chunk_bytes):
    text = '[{"report": "Fieber, Übelkeit – 38,5 °C 𝄞"}]'
    assert decode(text.encode(), chunk_bytes) == text
    assert decode(codecs.BOM_UTF8 + text.encode(), chunk_bytes) == text


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 4, 7, CHUNK_BYTES])
def test_latin1_refused_naming_the_byte_offset(chunk_bytes):
    data = '[{"report": "Café – Fieber"}]'.encode("latin-1", errors="replace")
    offset = data.index(b"\xe9")
    with pytest.raises(ReadError, match=rf"not valid UTF-8 at byte {offset} \(0xe9\)"):
        decode(data, chunk_bytes)
    # The offset counts a BOM, as it is a byte of the file.
    with pytest.raises(ReadError, match=rf"at byte {offset + 3} "):
        decode(codecs.BOM_UTF8 + data, chunk_bytes)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
def test_utf16_and_utf32_refused_naming_the_byte_offset(codec):
    data = '[{"patient_id": 1, "report": "x"}]'.encode(codec)
    with pytest.raises(ReadError, match=r"at byte \d+") as info:
        decode(data)
    assert "UTF-8" in info.value.message


def test_utf8_truncated_sequence_at_the_end_is_refused():
    with pytest.raises(ReadError, match=r"at byte 1 "):
        decode(b"[\xe2\x82", 1)


def test_utf8_chunks_reports_raw_bytes_read():
    seen = []
    data = codecs.BOM_UTF8 + b"[1]" * 10
    list(utf8_chunks(io.BytesIO(data), chunk_bytes=4, progress=seen.append))
    assert sum(seen) == len(data)


# --- streaming -----------------------------------------------------------------------


def test_readers_are_generators():
    for function in (utf8_chunks, read_json_array, read_json_lines, read_csv, readers.iter_lines):
        assert inspect.isgeneratorfunction(function), function.__name__


HUGE = 512 * 1024 * 1024  # half a GiB, never materialised


@pytest.mark.parametrize(
    ("reader", "head", "unit", "tail"),
    [
        (read_json_lines, b"", b'{"patient_id": 1, "report": "fever"}\n', b""),
        (read_json_array, b"[\n", b'{"patient_id": 1, "report": "fever"},\n', b'{"patient_id": 2, "report": "x"}]'),
        (read_csv, b"patient_id,report\n", b'1,"fever, cough"\n', b""),
    ],
)
def test_first_record_of_a_huge_stream_reads_only_the_first_chunk(reader, head, unit, tail):
    stream = CountingStream(head, unit, HUGE, tail)
    records = reader(utf8_chunks(stream))
    first = next(records)
    assert first.number == 1 and first.line == (2 if reader is read_csv else 1 + (reader is read_json_array))
    assert first.value["report"] in ("fever", "fever, cough")
    assert stream.bytes_read <= 2 * CHUNK_BYTES
    for _ in range(1000):
        next(records)
    assert stream.bytes_read <= 2 * CHUNK_BYTES


# --- JSON array ---------------------------------------------------------------------


ARRAY = '[\n  {"patient_id": 1, "report": "a"},\n\n  {"patient_id": "2",\n   "report": "b\\nc"},\n  {"patient_id": 12345678901234567890, "report": "d"}\n]\n'


@pytest.mark.parametrize("size", [None, 1, 2, 7, 64])
def test_json_array_numbers_records_and_names_their_first_line(size):
    records = read(read_json_array, ARRAY, size)
    assert [(r.number, r.line) for r in records] == [(1, 2), (2, 4), (3, 6)]
    assert [r.value["patient_id"] for r in records] == [1, "2", 12345678901234567890]
    assert records[1].value["report"] == "b\nc"


@pytest.mark.parametrize("size", [None, 1, 3])
def test_json_array_scalars_split_across_chunks(size):
    records = read(read_json_array, '[12345, 6.75e3, true, null, "xyz"]', size)
    assert [r.value for r in records] == [12345, 6750.0, True, None, "xyz"]


@pytest.mark.parametrize("text", ["", "   \n\t ", "[]", "[ \n ]"])
def test_json_array_without_records(text):
    with pytest.raises(ReadError, match="^no records$"):
        read(read_json_array, text)


def test_json_object_where_an_array_is_expected():
    with pytest.raises(ReadError, match="expected a JSON array of records") as info:
        read(read_json_array, '\n{"patient_id": 1, "report": "a"}\n')
    assert info.value.line == 2


@pytest.mark.parametrize(
    ("text", "record", "line", "message"),
    [
        ('[{"patient_id": 1, "report": "a"},\n {"patient_id": 2, "rep', 2, 2, "invalid JSON"),
        ('[{"patient_id": 1, "report": "a"},\n {"patient_id": 2, "report": "b"}', 2, 2, "truncated"),
        ('[{"patient_id": 1, "report": "a"},\n {"patient_id": 2, "report": "b"},', 3, 2, "truncated"),
        ('[{"patient_id": 1, "report": "a"},\n {"patient_id": 2, "report": tru}]', 2, 2, "invalid JSON"),
        ('[{"patient_id": 1, "report": "a"},\n\n {"patient_id": 2,\n  "report": "b",}]', 2, 4, "invalid JSON"),
        ('[{"patient_id": 1, "report": "a"}\n {"patient_id": 2}]', 1, 2, "expected ',' or ']'"),
        ('[{"patient_id": 1, "report": "a"},\n]', 1, 2, "trailing comma"),
    ],
)
@pytest.mark.parametrize("size", [None, 5])
def test_json_array_invalid_or_truncated_names_record_and_line(text, record, line, message, size):
    with pytest.raises(ReadError, match=message) as info:
        read(read_json_array, text, size)
    assert (info.value.record, info.value.line) == (record, line)


def test_json_array_garbage_after_the_closing_bracket():
    with pytest.raises(ReadError, match="after the closing"):
        read(read_json_array, '[{"patient_id": 1, "report": "a"}]\n]')


def nested(depth: int) -> str:
    """A JSON value nested ``depth`` levels (``[]`` is 1)."""
    return "[" * depth + "]" * depth


def test_json_array_nesting_limit_is_32_levels_counting_the_array():
    ok = read(read_json_array, f'[{{"patient_id": 1, "x": {nested(30)}}}]')
    assert ok[0].error is None
    deep = read(read_json_array, f'[{{"patient_id": 1, "x": {nested(31)}}}, {{"patient_id": 2}}]')
    assert deep[0].error == "nesting deeper than 32 levels"
    assert deep[1].error is None and deep[1].value == {"patient_id": 2}  # reading goes on


@pytest.mark.parametrize("size", [None, 4096])
def test_json_array_100000_levels_deep_is_refused_without_crashing(size):
    with pytest.raises(ReadError, match="nesting deeper than 32 levels") as info:
        read(read_json_array, '[{"patient_id": 1, "report": "a"},\n' + nested(100_000) + "]", size)
    assert (info.value.record, info.value.line) == (2, 2)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_array_refuses_non_json_constants(constant):
    with pytest.raises(ReadError, match=f"{constant} is not valid JSON") as info:
        read(read_json_array, f'[{{"patient_id": 1, "report": "a", "score": {constant}}}]')
    assert info.value.record == 1


def test_json_array_refuses_an_integer_too_long_to_convert():
    with pytest.raises(ReadError, match="invalid JSON") as info:
        read(read_json_array, '[{"patient_id": ' + "9" * 5000 + ', "report": "a"}]')
    assert info.value.record == 1


# --- JSON lines ---------------------------------------------------------------------


JSONL = '{"patient_id": 1, "report": "a"}\r\n\n   \n{"patient_id": 2, "report": "b"}\n{"patient_id": 3, "report": "c"}'


@pytest.mark.parametrize("size", [None, 1, 10])
def test_json_lines_skip_blank_lines_and_count_physical_lines(size):
    records = read(read_json_lines, JSONL, size)
    assert [(r.number, r.line, r.value["patient_id"]) for r in records] == [(1, 1, 1), (2, 4, 2), (3, 5, 3)]


def test_json_lines_bad_lines_are_reported_and_reading_goes_on():
    text = (
        '{"patient_id": 1, "report": "a"}\n{"patient_id": 2, "report": \n{"patient_id": 3, "report": "c"}\nNaN\n'
        + nested(100_000)
        + "\n"
        + nested(33)
        + "\n"
        + nested(32)
        + '\n{"patient_id": 4}\n'
    )
    records = read(read_json_lines, text)
    assert [(r.number, r.line) for r in records] == [(i, i) for i in range(1, 9)]
    errors = {r.number: r.error for r in records if r.error}
    assert errors[2].startswith("invalid JSON")
    assert "NaN is not valid JSON" in errors[4]
    assert errors[5] == errors[6] == "nesting deeper than 32 levels"
    assert set(errors) == {2, 4, 5, 6}
    assert records[7].value == {"patient_id": 4}


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_json_lines_without_records(text):
    with pytest.raises(ReadError, match="^no records$"):
        read(read_json_lines, text)


# --- CSV ------------------------------------------------------------------------------


def test_csv_line_is_the_physical_line_where_the_record_starts():
    text = 'patient_id,report,diagnosis\n1,"line one\nline two, with comma\nline ""three""",flu\n2,plain,N/A\n\n3,x,\n'
    records = read(read_csv, text)
    assert [(r.number, r.line) for r in records] == [(1, 2), (2, 5), (3, 7)]
    assert records[0].value == {
        "patient_id": "1",
        "report": 'line one\nline two, with comma\nline "three"',
        "diagnosis": "flu",
    }
    assert records[2].value["diagnosis"] == ""


@pytest.mark.parametrize("size", [None, 1, 3])
def test_csv_with_crlf_line_endings_and_chunking(size):
    text = 'patient_id,report\r\n1,"a\r\nb"\r\n2,c\r\n'
    records = read(read_csv, text, size)
    assert [(r.number, r.line, r.value["report"]) for r in records] == [(1, 2, "a\r\nb"), (2, 4, "c")]


@pytest.mark.parametrize(
    ("header", "missing"), [("id,report", "patient_id"), ("patient_id,text", "report"), ("report", "patient_id")]
)
def test_csv_header_must_hold_patient_id_and_report(header, missing):
    with pytest.raises(ReadError, match=f"CSV header must hold '{missing}'") as info:
        read(read_csv, f"{header}\n1,a\n")
    assert info.value.line == 1


def test_csv_header_repeating_a_column_is_refused():
    with pytest.raises(ReadError, match="repeats column"):
        read(read_csv, "patient_id,report,report\n1,a,b\n")


@pytest.mark.parametrize("text", ["", "\n", "patient_id,report\n", "patient_id,report\n\n\n"])
def test_csv_without_records(text):
    with pytest.raises(ReadError, match="^no records$"):
        read(read_csv, text)


def test_csv_blank_lines_before_the_header_are_skipped():
    records = read(read_csv, "\n\npatient_id,report\n1,a\n")
    assert [(r.number, r.line, r.header_line) for r in records] == [(1, 4, 3)]


def test_csv_wrong_number_of_columns_is_reported_and_reading_goes_on():
    records = read(read_csv, "patient_id,report\n1,a,extra\n2,b\n")
    assert records[0].error == "expected 2 columns as in the header, got 3"
    assert records[1].value == {"patient_id": "2", "report": "b"}


def test_csv_unterminated_quote_names_record_and_line():
    with pytest.raises(ReadError, match="ends inside a quoted field") as info:
        read(read_csv, 'patient_id,report\n1,a\n2,"never\nclosed\n')
    assert (info.value.record, info.value.line) == (2, 3)


def test_csv_field_longer_than_the_csv_module_default_limit():
    report = "x" * 300_000
    records = read(read_csv, f'patient_id,report\n1,"{report}"\n', 65536)
    assert records[0].value["report"] == report


# --- detect_format ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("data.json", b"{", "json"),  # the extension wins over the first byte
        ("DATA.JSON", b"", "json"),
        ("data.jsonl", b"[", "jsonl"),
        ("data.ndjson", b"", "jsonl"),
        ("data.csv", b"[", "csv"),
        ("data.txt", b"  \n\t[", "json"),
        ("<stdin>", b"\n{", "jsonl"),
        ("<stdin>", codecs.BOM_UTF8 + b" [", "json"),
        ("<stdin>", b"patient_id,report", None),
        ("<stdin>", b"   ", None),
        ("data.json.gz", b"\x1f\x8b", None),
    ],
)
def test_detect_format(name, head, expected):
    assert detect_format(name, head) == expected


# --- parse_record: CLI.md's accept/refuse table ---------------------------------------------


def good(**extra) -> dict:
    return {"patient_id": 1, "report": "A 40-year-old woman with fever.", **extra}


def problems_of(value, opts=OPTS) -> list:
    record, problems = parse_record(value, opts)
    assert record is None
    return problems


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "is null"),
        ("", "is blank"),
        ("   ", "is blank"),
        (True, "got a boolean"),
        (False, "got a boolean"),
        (1.0, "fraction or exponent"),
        (1.5, "fraction or exponent"),
        ({"id": 1}, "got an object"),
        ([1], "got a list"),
        ("x" * 201, "longer than 200"),
        (10**201, "longer than 200"),
    ],
)
def test_patient_id_refused(value, problem):
    [(field, message)] = problems_of(good(patient_id=value))
    assert field == "patient_id" and problem in message


def test_patient_id_missing():
    assert problems_of({"report": "x"}) == [("patient_id", "missing; every record needs an id")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, "1"), ("1", "1"), (" 7 ", "7"), (0, "0"), (-3, "-3"), ("PMC123", "PMC123"), (2**70, str(2**70))],
)
def test_patient_id_integer_or_string_stored_as_string(value, expected):
    record, _ = parse_record(good(patient_id=value), OPTS)
    assert record.external_id == expected


def test_integer_and_string_id_have_the_same_identity():
    a, _ = parse_record(good(patient_id=1), OPTS)
    b, _ = parse_record(good(patient_id="1"), OPTS)
    assert (a.external_id, a.content_hash) == (b.external_id, b.content_hash)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "is null"),
        (1, "expected a string, got a number"),
        (["a"], "got a list"),
        ({}, "got an object"),
        (True, "got a boolean"),
        ("", "is blank"),
        (" \n\t ", "is blank"),
    ],
)
def test_report_refused(value, problem):
    [(field, message)] = problems_of(good(report=value))
    assert field == "report" and problem in message


def test_report_missing():
    assert problems_of({"patient_id": 1}) == [("report", "missing; every record needs the report text")]


def test_several_problems_of_one_record_are_all_listed():
    fields = [f for f, _ in problems_of({"patient_id": None, "summary": {"diagnosis": 1, "bogus": "x"}})]
    assert fields == ["patient_id", "report", "summary.diagnosis", "summary.bogus"]


def test_summary_absent_means_no_gold():
    record, problems = parse_record(good(), OPTS)
    assert problems == [] and record.summary is None and record.set_to_na == 0


@pytest.mark.parametrize(
    ("value", "kind"), [("flu", "a string"), ([], "a list"), (3, "a number"), (None, "null"), (True, "a boolean")]
)
def test_summary_not_an_object_refused(value, kind):
    assert problems_of(good(summary=value)) == [("summary", f"expected an object, got {kind}")]


def test_unknown_summary_key_refused_or_dropped_and_counted():
    value = good(summary={"diagnosis": "flu", "mood": "fine", "ward": None})
    assert [f for f, _ in problems_of(value)] == ["summary.mood", "summary.ward"]
    assert "--drop-unknown" in problems_of(value)[0][1]
    record, problems = parse_record(value, RecordOptions(schema_keys=ELMTEX_KEYS, drop_unknown=True))
    assert problems == [] and record.dropped == 2
    assert list(record.summary) == list(ELMTEX_KEYS)


@pytest.mark.parametrize(
    ("value", "kind"),
    [(["a", "b"], "a list"), (3, "a number"), (2.5, "a number"), (False, "a boolean"), ({"a": "b"}, "an object")],
)
def test_summary_value_of_the_wrong_type_refused(value, kind):
    assert problems_of(good(summary={"diagnosis": value})) == [("summary.diagnosis", f"expected a string, got {kind}")]


def test_null_blank_and_missing_summary_values_become_na_and_are_counted():
    given = {key: "x" for key in ELMTEX_KEYS}
    given.update(diagnosis=None, gender="  ", age="")
    del given["pathology"]
    record, problems = parse_record(good(summary=given), OPTS)
    assert problems == []
    assert record.set_to_na == 4
    assert [record.summary[k] for k in ("diagnosis", "gender", "age", "pathology")] == [NA] * 4
    assert record.summary["comorbidities"] == "x"


def test_summary_keys_come_out_in_schema_order():
    record, _ = parse_record(good(summary={key: key for key in reversed(ELMTEX_KEYS)}), OPTS)
    assert list(record.summary) == list(ELMTEX_KEYS) and record.set_to_na == 0


def test_other_top_level_keys_are_metadata():
    record, _ = parse_record(good(title="Case 1", pmid=123, extra={"a": [1, None]}), OPTS)
    assert record.metadata == {"title": "Case 1", "pmid": 123, "extra": {"a": [1, None]}}


def test_language_and_split_fields_override_the_flags():
    opts = RecordOptions(schema_keys=ELMTEX_KEYS, language="de", split="train")
    plain, _ = parse_record(good(), opts)
    assert (plain.language, plain.split) == ("de", "train")
    own, _ = parse_record(good(language="en", split="test"), opts)
    assert (own.language, own.split) == ("en", "test")
    alias, _ = parse_record(good(split="validation"), opts)
    assert alias.split == "val"
    # null or blank means "not given"
    unset, _ = parse_record(good(language=None, split=""), opts)
    assert (unset.language, unset.split) == ("de", "train")


@pytest.mark.parametrize(
    ("field", "value"), [("language", "english!"), ("language", 7), ("split", "holdout"), ("split", 1)]
)
def test_bad_language_or_split_refused(field, value):
    [(name, _)] = problems_of(good(**{field: value}))
    assert name == field


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (good(report="fever\x00"), "report"),
        (good(summary={"diagnosis": "flu\x00"}), "summary.diagnosis"),
        (good(title="\ud800"), "title"),
        (good(extra={"a": ["ok", "bad\x00"]}), "extra.a[1]"),
        (good(patient_id="a\x00"), "patient_id"),
    ],
)
def test_text_no_database_can_store_is_refused(value, field):
    [(name, message)] = problems_of(value)
    assert name == field and ("NUL" in message or "surrogate" in message)


def test_content_hash_tells_same_from_different_content():
    a, _ = parse_record(good(summary={"diagnosis": "flu"}), OPTS)
    b, _ = parse_record(good(summary={"diagnosis": "flu", "gender": None}), OPTS)
    c, _ = parse_record(good(summary={"diagnosis": "cold"}), OPTS)
    d, _ = parse_record(good(summary={"diagnosis": "flu"}, title="t"), OPTS)
    assert a.content_hash == b.content_hash
    assert len({a.content_hash, c.content_hash}) == 2
    # Metadata is compared on its own: a record without any leaves stored metadata alone.
    assert d.content_hash == a.content_hash
    assert a.metadata_hash is None and d.metadata_hash is not None


def test_record_that_is_not_an_object():
    assert problems_of([1, 2]) == [(None, "expected an object (a record), got a list")]


def test_csv_cells():
    opts = RecordOptions(schema_keys=ELMTEX_KEYS, language="de", csv=True)
    record, problems = parse_record(
        {"patient_id": "1", "report": "r", "language": "", "split": "", "diagnosis": "flu", "gender": " "}, opts
    )
    assert problems == []
    assert (record.language, record.split, record.metadata) == ("de", "none", {})
    assert record.summary["diagnosis"] == "flu" and record.summary["gender"] == NA
    assert record.set_to_na == len(ELMTEX_KEYS) - 1
    bare, _ = parse_record({"patient_id": "1", "report": "r"}, opts)
    assert bare.summary is None
    [(field, message)] = problems_of({"patient_id": "1", "report": "r", "ward": "3"}, opts)
    assert field == "ward" and "unknown column" in message


def test_json_serialisable_round_trip_of_a_parsed_record():
    record, _ = parse_record(json.loads(json.dumps(good(summary={"diagnosis": "Grippe – ü"}))), OPTS)
    assert record.summary["diagnosis"] == "Grippe – ü"


def test_json_line_longer_than_many_chunks():
    report = "fever " * 1_000_000
    text = json.dumps({"patient_id": 1, "report": report}) + "\n" + json.dumps({"patient_id": 2}) + "\n"
    records = read(read_json_lines, text, 4096)
    assert [(r.number, r.line) for r in records] == [(1, 1), (2, 2)]
    assert records[0].value["report"] == report


@pytest.mark.parametrize("size", [None, 1, 5])
def test_iter_lines_keeps_terminators(size):
    text = "a\r\nbb\n\nccc"
    assert list(readers.iter_lines(pieces(text, size))) == ["a\r\n", "bb\n", "\n", "ccc"]


@pytest.mark.parametrize("chunk_bytes", [1, 4, CHUNK_BYTES])
def test_nul_byte_refused_after_any_earlier_invalid_byte(chunk_bytes):
    with pytest.raises(ReadError, match=r"at byte 5: a NUL byte"):
        decode(b'[{"a"\x00}]', chunk_bytes)
    with pytest.raises(ReadError, match=r"at byte 2 \(0xff\)"):
        decode(b'[{\xff"\x00}]', chunk_bytes)
