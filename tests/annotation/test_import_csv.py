"""import_dataset with CSV files (CLI.md's CSV row): header, schema columns, lines."""

import codecs

import pytest

from annotation.models import Document, Gold
from annotation.schema import ELMTEX_KEYS, NA

from .import_helpers import (
    assert_refused,
    counts,
    csv_bytes,
    jsonl,
    record,
    success_line,
    summary,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def import_csv(run_cli, tmp_path, project):
    def run(data: bytes, *flags: str, name: str = "data.csv"):
        path = tmp_path / name
        path.write_bytes(data)
        return path, run_cli("import_dataset", "p1", str(path), *flags)

    return run


def test_csv_with_every_schema_column(import_csv):
    header = ["patient_id", "report", *ELMTEX_KEYS]
    rows = [["1", "Report one.", *(f"v{i}" for i in range(15))], ["2", "Report two.", *(["N/A"] * 15)]]
    _, result = import_csv(csv_bytes(header, rows))
    assert result.out == success_line(new=2) + "\n"
    values = Gold.objects.get(document__external_id="1").values
    assert values == {key: f"v{i}" for i, key in enumerate(ELMTEX_KEYS)}


def test_missing_schema_columns_and_blank_cells_are_na_and_counted(import_csv):
    data = csv_bytes(
        ["patient_id", "report", "gender", "diagnosis"], [["1", "r1", "female", ""], ["2", "r2", " ", "flu"]]
    )
    _, result = import_csv(data)
    assert result.out == success_line(new=2, na=2 * 13 + 2) + "\n"
    assert Gold.objects.get(document__external_id="1").values == summary(gender="female")
    assert Gold.objects.get(document__external_id="2").values == summary(diagnosis="flu")
    # the counts describe the file, so importing it again reports the same figures
    _, result = import_csv(data)
    assert result.out == success_line(unchanged=2, na=2 * 13 + 2) + "\n"


def test_only_patient_id_and_report_gives_documents_without_gold(import_csv):
    _, result = import_csv(b"report,patient_id\nr1,1\nr2,2\n")
    assert result.out == success_line(new=2) + "\n"
    assert counts() == (2, 0)


@pytest.mark.parametrize("header", [b"id,report", b"patient_id,text", b"patient_id", b"diagnosis,gender"])
def test_header_must_hold_patient_id_and_report(import_csv, header):
    path, result = import_csv(header + b"\n1,a\n")
    assert_refused(result, before=(0, 0), path=path, line=1, problem="CSV header must hold")


def test_unknown_columns_refused_naming_them(import_csv):
    data = csv_bytes(["patient_id", "report", "diagnosis", "ward", "title"], [["1", "r", "flu", "3", "t"]])
    path, result = import_csv(data)
    assert_refused(result, before=(0, 0), path=path, line=1, field="ward", problem="--drop-unknown")
    assert_refused(result, before=(0, 0), path=path, line=1, field="title", problem="unknown column")
    assert len(result.err_lines) == 2  # reported for the header, not for every row


def test_unknown_columns_dropped_and_counted(import_csv):
    data = csv_bytes(["patient_id", "report", "diagnosis", "ward"], [["1", "r", "flu", "3"], ["2", "r", "", ""]])
    _, result = import_csv(data, "--drop-unknown")
    assert result.out == success_line(new=2, na=14 + 15, dropped=2) + "\n"
    assert Gold.objects.get(document__external_id="1").values == summary(diagnosis="flu")


def test_line_is_the_physical_line_where_the_record_starts(import_csv):
    report = 'First line of the report,\nsecond line with "quotes",\nthird line.'
    data = csv_bytes(["patient_id", "report", "diagnosis"], [["1", report, "flu"], ["2", "", "x"], ["3", "r", "y"]])
    path, result = import_csv(data)
    # record 1 spans lines 2-4, so record 2 starts on line 5
    assert_refused(result, before=(0, 0), path=path, record=2, line=5, field="report", problem="is blank")


def test_multi_line_report_is_stored_as_written(import_csv):
    report = 'Line one, with a comma;\nline "two"\r\nline three'
    import_csv(csv_bytes(["patient_id", "report"], [["1", report]]))
    assert Document.objects.get().text == report


def test_duplicate_ids_name_both_records(import_csv):
    data = csv_bytes(["patient_id", "report"], [["1", "a\nb"], ["2", "c"], [" 1 ", "d"]])
    path, result = import_csv(data)
    line = assert_refused(
        result, before=(0, 0), path=path, record=3, line=5, field="patient_id", problem="duplicate id '1'"
    )
    assert "also record 1 (line 2)" in line


def test_language_and_split_columns_override_the_flags(import_csv):
    data = csv_bytes(
        ["patient_id", "report", "language", "split"],
        [["1", "r", "", ""], ["2", "r", "en", "test"], ["1", "r", "en", ""]],
    )
    _, result = import_csv(data, "--language", "de", "--split", "train")
    assert result.code == 0, result.err
    got = sorted(Document.objects.values_list("external_id", "language", "split"))
    assert got == [("1", "de", "train"), ("1", "en", "train"), ("2", "en", "test")]
    assert Document.objects.get(language="de").translation_of == Document.objects.get(external_id="1", language="en")


@pytest.mark.parametrize(
    ("row", "field", "problem"), [(["", "r"], "patient_id", "is blank"), (["1", "  "], "report", "is blank")]
)
def test_blank_id_or_report_refused(import_csv, row, field, problem):
    path, result = import_csv(csv_bytes(["patient_id", "report"], [["9", "ok"], row]))
    assert_refused(result, before=(0, 0), path=path, record=2, line=3, field=field, problem=problem)


def test_row_with_the_wrong_number_of_cells_refused(import_csv):
    path, result = import_csv(b"patient_id,report\n1,a\n2,b,c\n3\n")
    assert_refused(result, before=(0, 0), path=path, record=2, line=3, field=None, problem="expected 2 columns")
    assert_refused(result, before=(0, 0), path=path, record=3, line=4, field=None, problem="got 1")


def test_unterminated_quote_refused(import_csv):
    path, result = import_csv(b'patient_id,report\n1,a\n2,"never closed\n3,c\n')
    assert_refused(result, before=(0, 0), path=path, record=2, line=3, field=None, problem="quoted field")


def test_csv_with_bom_and_crlf(import_csv):
    data = codecs.BOM_UTF8 + b'patient_id,report,diagnosis\r\n1,"a\r\nb",flu\r\n2,c,\r\n'
    _, result = import_csv(data)
    assert result.out == success_line(new=2, na=14 + 15) + "\n"
    assert Document.objects.get(external_id="1").text == "a\r\nb"


def test_latin1_csv_refused_naming_the_byte_offset(import_csv):
    data = "patient_id,report\n1,Café\n".encode("latin-1")
    offset = data.index(b"\xe9")
    path, result = import_csv(data)
    assert_refused(result, before=(0, 0), path=path, problem=f"not valid UTF-8 at byte {offset}")


def test_csv_from_standard_input_with_format_flag(run_cli, project):
    result = run_cli("import_dataset", "p1", "-", "--format", "csv", stdin=b"patient_id,report\n1,a\n")
    assert result.out == success_line(new=1) + "\n", result.err


def test_csv_and_json_of_the_same_records_are_the_same_content(import_csv, run_cli):
    import_csv(
        csv_bytes(
            ["patient_id", "report", "diagnosis", "gender"], [["1", "Report of case 1.", "diagnosis 1", "female"]]
        )
    )
    result = run_cli("import_dataset", "p1", "-", stdin=jsonl([record(1)]))
    assert result.out == success_line(unchanged=1) + "\n", result.err


def test_bad_row_after_5000_good_ones_rolls_back(import_csv):
    rows = [[str(i), f"Report {i}, fever\nand cough", "flu"] for i in range(1, 5001)] + [["5001", "", "x"]]
    path, result = import_csv(csv_bytes(["patient_id", "report", "diagnosis"], rows))
    assert_refused(result, before=(0, 0), path=path, record=5001, line=2 + 2 * 5000, field="report")


def test_values_stored_as_na_only_when_blank(import_csv):
    _, result = import_csv(csv_bytes(["patient_id", "report", "diagnosis"], [["1", "r", "N/A"]]))
    assert result.out == success_line(new=1, na=14) + "\n"
    assert Gold.objects.get().values["diagnosis"] == NA


def test_column_without_a_name_refused_unless_dropped(import_csv):
    data = b"patient_id,report,diagnosis,\n1,r,flu,\n"
    path, result = import_csv(data)
    assert_refused(result, before=(0, 0), path=path, line=1, problem="a column without a name")
    _, result = import_csv(data, "--drop-unknown")
    assert result.out == success_line(new=1, na=14, dropped=1) + "\n"
