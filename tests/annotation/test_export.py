"""export_gold (CLI.md): key order, filters, formats, and import of an export gives back
the same records."""

import contextlib
import csv
import errno
import io
import json
import os
import stat

import pytest
from django.core.management import ManagementUtility
from django.db import connections

from annotation.management.commands import export_gold
from annotation.models import Gold, GoldOrigin
from annotation.schema import ELMTEX_KEYS, CategorySpec
from annotation.services.exports import GoldFilter, gold_export
from annotation.services.projects import project_create
from elmtex_site.errors import ApplicationError
from tests.factories import ProjectFactory

from .import_helpers import (
    jsonl,
    record,
    success_line,
    summary,
)

pytestmark = pytest.mark.django_db

RECORD_KEYS = ["patient_id", "language", "split", "report", "summary"]

TRICKY_REPORTS = [
    'A 45-year-old man, "well known" to us, presented with fever; cough, and dyspnoea.',
    "Line one.\nLine two, with a comma.\n\nLine four after a blank line.",
    "Windows line ends\r\nkept, and a lone \\ backslash, and a tab\there.",
    "Unicode: Übelkeit, 38,5 °C, β-Blocker, 心电图, emoji 🩺, zero-width\u200bspace, line\u2028separator.",
    '"Quoted from the start", and ending in a quote"',
    "  leading and trailing spaces  ",
    "=1+1, @cmd, -2: spreadsheet-looking text",
]


def dataset() -> list[dict]:
    records = []
    for i, report in enumerate(TRICKY_REPORTS, start=1):
        values = summary(
            diagnosis=f'Diagnose {i}: Grippe, "schwer"; Fieber',
            gender="female" if i % 2 else "male",
            laboratory_values="CRP 85 mg/L;\nHb 9,8 g/dL",
        )
        records.append(
            record(i, report, summary=values, split=("train", "val", "test", "none")[i % 4], title=f"Case {i}")
        )
    records.append(record(1, "Deutscher Bericht: Übelkeit.", language="de", split="train"))
    records.append(record("PMC-42", "No gold for this one.", with_summary=False))
    return records


@pytest.fixture
def loaded(run_cli, tmp_path, project):
    path = tmp_path / "source.jsonl"
    path.write_bytes(jsonl(dataset()))
    result = run_cli("import_dataset", "p1", str(path))
    assert result.code == 0, result.err
    return project


def export(run_cli, slug, path, *flags):
    result = run_cli("export_gold", slug, "--out", str(path), *flags)
    assert result.code == 0, result.err
    return result


def parse(path, fmt):
    with open(path, encoding="utf-8", newline="") as fh:  # no newline translation
        text = fh.read()
    if fmt == "jsonl":
        # JSON lines end at "\n" only: str.splitlines() would also split at U+2028
        return [json.loads(line, object_pairs_hook=list) for line in text.split("\n") if line.strip()]
    if fmt == "json":
        return json.loads(text, object_pairs_hook=list)
    return [list(row.items()) for row in csv.DictReader(io.StringIO(text, newline=""))]


def as_dicts(parsed):
    def convert(value):
        if isinstance(value, list) and all(isinstance(p, tuple) for p in value):
            return {k: convert(v) for k, v in value}
        return value

    return [convert(r) for r in parsed]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_round_trip(run_cli, tmp_path, loaded, fmt):
    first = tmp_path / f"first.{fmt}"
    export(run_cli, "p1", first, "--format", fmt)
    ProjectFactory(slug="p2")
    result = run_cli("import_dataset", "p2", str(first))
    assert result.out == success_line(new=len(TRICKY_REPORTS) + 1) + "\n", result.err
    second = tmp_path / f"second.{fmt}"
    export(run_cli, "p2", second, "--format", fmt)
    assert parse(first, fmt) == parse(second, fmt)
    assert first.read_bytes() == second.read_bytes()
    # and importing the export back into its own project changes nothing
    result = run_cli("import_dataset", "p2", str(second))
    assert result.out == success_line(unchanged=len(TRICKY_REPORTS) + 1) + "\n", result.err


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_every_format_carries_the_same_records(run_cli, tmp_path, loaded, fmt):
    export(run_cli, "p1", tmp_path / "a.jsonl")
    export(run_cli, "p1", tmp_path / f"a.{fmt}", "--format", fmt)
    ProjectFactory(slug="p2")
    assert run_cli("import_dataset", "p2", str(tmp_path / f"a.{fmt}")).code == 0
    export(run_cli, "p2", tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_exported_records_equal_the_imported_ones(run_cli, tmp_path, loaded):
    export(run_cli, "p1", tmp_path / "out.jsonl")
    exported = as_dicts(parse(tmp_path / "out.jsonl", "jsonl"))
    expected = [
        {
            "patient_id": str(r["patient_id"]),
            "language": r.get("language", "en"),
            "split": r.get("split", "none"),
            "report": r["report"],
            "summary": r["summary"],
        }
        for r in dataset()
        if "summary" in r
    ]
    assert exported == expected


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_key_order_and_summary_in_schema_order(run_cli, tmp_path, loaded, fmt):
    # gold written with keys in reverse order still comes out in schema order
    gold = Gold.objects.get(document__external_id="2", document__language="en")
    gold.values = dict(reversed(list(gold.values.items())))
    gold.save()
    export(run_cli, "p1", tmp_path / f"out.{fmt}", "--format", fmt)
    for rec in parse(tmp_path / f"out.{fmt}", fmt):
        assert [k for k, _ in rec] == RECORD_KEYS
        assert [k for k, _ in dict(rec)["summary"]] == list(ELMTEX_KEYS)
        assert isinstance(dict(rec)["patient_id"], str)


def test_csv_header_order(run_cli, tmp_path, loaded):
    export(run_cli, "p1", tmp_path / "out.csv", "--format", "csv")
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["patient_id", "language", "split", "report", *ELMTEX_KEYS]


def test_custom_schema_order(run_cli, tmp_path, db):
    project_create(
        slug="custom",
        name="Custom",
        categories=[CategorySpec("zeta", "Z", ""), CategorySpec("alpha", "A", ""), CategorySpec("mid", "M", "")],
    )
    src = tmp_path / "src.jsonl"
    src.write_bytes(jsonl([{"patient_id": 1, "report": "r", "summary": {"mid": "m", "alpha": "a"}}]))
    assert run_cli("import_dataset", "custom", str(src)).code == 0
    export(run_cli, "custom", tmp_path / "out.jsonl")
    [rec] = parse(tmp_path / "out.jsonl", "jsonl")
    assert dict(rec)["summary"] == [("zeta", "N/A"), ("alpha", "a"), ("mid", "m")]


def test_unicode_is_written_as_is(run_cli, tmp_path, loaded):
    export(run_cli, "p1", tmp_path / "out.jsonl")
    text = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    assert "Übelkeit" in text and "心电图" in text and "🩺" in text
    assert "\\u00dc" not in text
    assert text.count("\n") == len(TRICKY_REPORTS) + 1  # one line per record, whatever the report holds


def test_csv_quotes_reports_with_newlines_quotes_and_commas(run_cli, tmp_path, loaded):
    export(run_cli, "p1", tmp_path / "out.csv", "--format", "csv")
    rows = as_dicts(parse(tmp_path / "out.csv", "csv"))
    by_id = {(r["patient_id"], r["language"]): r for r in rows}
    for i, report in enumerate(TRICKY_REPORTS, start=1):
        assert by_id[(str(i), "en")]["report"] == report
    assert by_id[("1", "en")]["diagnosis"] == 'Diagnose 1: Grippe, "schwer"; Fieber'


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), {("1", "en"), ("2", "en"), ("3", "en"), ("4", "en"), ("5", "en"), ("6", "en"), ("7", "en"), ("1", "de")}),
        (("--language", "de"), {("1", "de")}),
        (("--split", "train"), {("4", "en"), ("1", "de")}),
        (("--split", "train", "--language", "en"), {("4", "en")}),
        (("--split", "test"), {("2", "en"), ("6", "en")}),
        (("--only-adjudicated",), {("2", "en")}),
        (("--only-adjudicated", "--split", "test"), {("2", "en")}),
        (("--only-adjudicated", "--split", "val"), set()),
        (("--language", "fr"), set()),
    ],
)
@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_filters(run_cli, tmp_path, loaded, flags, expected, fmt):
    Gold.objects.filter(document__external_id="2", document__language="en").update(origin=GoldOrigin.ADJUDICATED)
    result = export(run_cli, "p1", tmp_path / f"out.{fmt}", "--format", fmt, *flags)
    got = {(r["patient_id"], r["language"]) for r in as_dicts(parse(tmp_path / f"out.{fmt}", fmt))}
    assert got == expected
    assert result.err_lines[-1] == f"exported {len(expected)} records to {tmp_path / f'out.{fmt}'}"
    assert result.out == ""


def test_documents_without_gold_are_not_exported(run_cli, tmp_path, loaded):
    export(run_cli, "p1", tmp_path / "out.jsonl")
    ids = {dict(r)["patient_id"] for r in parse(tmp_path / "out.jsonl", "jsonl")}
    assert "PMC-42" not in ids


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("jsonl", ""),
        ("json", "[]\n"),
        ("csv", ",".join(["patient_id", "language", "split", "report", *ELMTEX_KEYS]) + "\n"),
    ],
)
def test_empty_export(run_cli, tmp_path, project, fmt, text):
    export(run_cli, "p1", tmp_path / "out", "--format", fmt)
    assert (tmp_path / "out").read_text() == text


def test_export_to_standard_output(run_cli, loaded):
    result = run_cli("export_gold", "p1", "--out", "-", "--language", "de")
    assert result.code == 0, result.err
    [line] = result.out.splitlines()
    assert json.loads(line)["report"] == "Deutscher Bericht: Übelkeit."


def test_with_metadata_adds_the_metadata_keys(run_cli, tmp_path, loaded):
    export(run_cli, "p1", tmp_path / "out.jsonl", "--with-metadata", "--language", "en")
    first = parse(tmp_path / "out.jsonl", "jsonl")[0]
    assert [k for k, _ in first] == [*RECORD_KEYS, "title"]
    ProjectFactory(slug="p2")
    assert run_cli("import_dataset", "p2", str(tmp_path / "out.jsonl")).code == 0
    # the metadata came back as metadata: re-importing the source is "unchanged"
    source = tmp_path / "source-en.jsonl"
    source.write_bytes(jsonl([r for r in dataset() if "summary" in r and "language" not in r]))
    assert run_cli("import_dataset", "p2", str(source)).out == success_line(unchanged=len(TRICKY_REPORTS)) + "\n"


def test_no_partial_file_is_left(run_cli, tmp_path, loaded):
    export(run_cli, "p1", tmp_path / "out.json", "--format", "json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "source.jsonl"]


def test_export_refusals(run_cli, tmp_path, project):
    result = run_cli("export_gold", "nope", "--out", str(tmp_path / "x.jsonl"))
    assert result.code == 1 and result.err_lines == [
        "error: project 'nope' does not exist; create it with create_project"
    ]
    result = run_cli("export_gold", "p1", "--out", str(tmp_path / "missing" / "x.jsonl"))
    assert result.code == 1 and "does not exist" in result.err and "Traceback" not in result.err
    result = run_cli("export_gold", "p1", "--out", str(tmp_path / "x"), "--format", "xml")
    assert result.code == 2 and "Traceback" not in result.err
    result = run_cli("export_gold", "p1")
    assert result.code == 2


def test_service_writes_to_any_text_stream(loaded):
    out = io.StringIO()
    count = gold_export(project=loaded, out=out, fmt="jsonl", filters=GoldFilter(language="de"))
    assert count == 1
    assert json.loads(out.getvalue())["patient_id"] == "1"


def test_split_filter_accepts_aliases_and_refuses_unknown_values(run_cli, tmp_path, loaded):
    export(run_cli, "p1", tmp_path / "out.jsonl", "--split", "validation")
    assert {dict(r)["split"] for r in parse(tmp_path / "out.jsonl", "jsonl")} == {"val"}
    for flag, value in (("--split", "holdout"), ("--language", "German")):
        result = run_cli("export_gold", "p1", "--out", str(tmp_path / "x.jsonl"), flag, value)
        assert result.code == 1 and result.err_lines[0].startswith(f"error: {flag}: ")
        assert not (tmp_path / "x.jsonl").exists()


AWKWARD_REPORTS = [
    "Old Mac line ends\rinside\rand at the end\r",
    "\rStarts with a carriage return.",
    "Windows\r\nline ends\r\n",
    "Unix\nline ends\n\n",
    "Mixed\r\n\r\n\n\r end.",
    '"Quoted", with commas, "and ""doubled"" quotes"',
    "  leading and trailing spaces  ",
    "Unicode: Übelkeit, 38,5 °C, 心电图, 🩺, line\u2028separator, next\u0085line.",
    "Plain report.",
]


def test_csv_round_trip_of_reports_with_carriage_returns_and_friends(run_cli, tmp_path, project):
    records = [
        record(
            i,
            report,
            summary=summary(diagnosis="first\rsecond" if i == 1 else f"diagnosis {i}", laboratory_values="CRP 85"),
        )
        for i, report in enumerate(AWKWARD_REPORTS, start=1)
    ]
    source = tmp_path / "source.jsonl"
    source.write_bytes(jsonl(records))
    assert run_cli("import_dataset", "p1", str(source)).code == 0
    export(run_cli, "p1", tmp_path / "out.csv", "--format", "csv")
    ProjectFactory(slug="p2")
    result = run_cli("import_dataset", "p2", str(tmp_path / "out.csv"))
    assert result.out == success_line(new=len(AWKWARD_REPORTS)) + "\n", result.err
    export(run_cli, "p1", tmp_path / "p1.jsonl")
    export(run_cli, "p2", tmp_path / "p2.jsonl")
    assert (tmp_path / "p1.jsonl").read_bytes() == (tmp_path / "p2.jsonl").read_bytes()
    exported = as_dicts(parse(tmp_path / "p2.jsonl", "jsonl"))
    assert [r["report"] for r in exported] == AWKWARD_REPORTS
    assert exported[0]["summary"]["diagnosis"] == "first\rsecond"
    # and the CSV stays as plain as it can: a row without a carriage return is not quoted
    # more than the csv module's minimal quoting
    text = (tmp_path / "out.csv").read_bytes().decode("utf-8")
    assert "\n9,en,none,Plain report.,N/A," in text


def test_with_metadata_is_refused_for_csv(run_cli, tmp_path, loaded):
    result = run_cli("export_gold", "p1", "--out", str(tmp_path / "out.csv"), "--format", "csv", "--with-metadata")
    assert result.code == 1 and result.out == ""
    assert result.err_lines == [
        "error: --with-metadata: not available for csv; metadata has no columns (use --format jsonl or json)"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.jsonl"]
    with pytest.raises(ApplicationError, match="--with-metadata"):
        gold_export(project=loaded, out=io.StringIO(), fmt="csv", with_metadata=True)


def test_out_naming_a_directory_is_refused(run_cli, tmp_path, loaded):
    target = tmp_path / "exports"
    target.mkdir()
    result = run_cli("export_gold", "p1", "--out", str(target))
    assert result.code == 1 and result.out == ""
    assert result.err_lines == [f"error: --out: {target} is a directory; give the path of a file to write"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "source.jsonl"]
    assert list(target.iterdir()) == []


def test_an_unfinished_export_of_someone_else_is_left_alone(run_cli, tmp_path, loaded):
    out = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.partial").write_text("another export, still running")
    export(run_cli, "p1", out)
    assert (tmp_path / "out.jsonl.partial").read_text() == "another export, still running"
    assert len(parse(out, "jsonl")) == len(TRICKY_REPORTS) + 1


def test_two_exports_to_one_path_at_once_both_finish_whole(run_cli, tmp_path, loaded, monkeypatch):
    out = tmp_path / "out.jsonl"
    inner_results = []

    def export_with_a_second_one_meanwhile(**kwargs):
        if not inner_results:
            kwargs["out"].write("{}\n" * 1000)  # half-way through its own file...
            monkeypatch.setattr(export_gold, "gold_export", gold_export)
            inner_results.append(run_cli("export_gold", "p1", "--out", str(out), "--language", "de"))
            kwargs["out"].seek(0)
            kwargs["out"].truncate()
        return gold_export(**kwargs)

    monkeypatch.setattr(export_gold, "gold_export", export_with_a_second_one_meanwhile)
    export(run_cli, "p1", out, "--language", "en")
    assert inner_results[0].code == 0, inner_results[0].err
    # the last to finish wins, whole; nothing of either is left behind
    assert {dict(r)["language"] for r in parse(out, "jsonl")} == {"en"}
    assert len(parse(out, "jsonl")) == len(TRICKY_REPORTS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "source.jsonl"]


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "error: --out: cannot write {out}: No space left on device"),
        (RuntimeError("boom"), "error: unexpected failure (RuntimeError): boom"),
    ],
)
def test_a_failed_export_leaves_no_file_behind(run_cli, tmp_path, loaded, monkeypatch, failure, message):
    out = tmp_path / "out.jsonl"
    out.write_text("the previous export\n")

    def fail_half_way(**kwargs):
        kwargs["out"].write("{}\n" * 1000)
        raise failure

    monkeypatch.setattr(export_gold, "gold_export", fail_half_way)
    result = run_cli("export_gold", "p1", "--out", str(out))
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err_lines[0].startswith(message.format(out=out)), result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "source.jsonl"]
    assert out.read_text() == "the previous export\n"


def test_exported_file_gets_the_usual_permissions(run_cli, tmp_path, loaded):
    export(run_cli, "p1", tmp_path / "out.jsonl")
    (tmp_path / "plain.txt").write_text("x")
    assert stat.S_IMODE((tmp_path / "out.jsonl").stat().st_mode) == stat.S_IMODE(
        (tmp_path / "plain.txt").stat().st_mode
    )


def test_a_reader_that_goes_away_ends_the_export_quietly(loaded, monkeypatch):
    """``export_gold ... --out - | head -1``: no traceback, no 'unexpected failure'."""
    monkeypatch.setattr(connections, "close_all", lambda: None)  # keep the test's transaction
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone: every write gets EPIPE
    stdout = open(write_end, "w", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed below
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as info:
            ManagementUtility(["manage.py", "export_gold", "p1", "--out", "-"]).execute()
    finally:
        with contextlib.suppress(OSError):
            stdout.close()
    assert info.value.code in (0, 1)
    assert "Traceback" not in err.getvalue() and "unexpected failure" not in err.getvalue(), err.getvalue()
