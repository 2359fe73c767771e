"""On PostgreSQL the export's JSON text is made by the database (to_json, jsonb -> key);
its bytes must equal those of json.dumps(ensure_ascii=False), the path used elsewhere."""

import json

import pytest
from django.db import connection

from annotation.schema import ELMTEX_KEYS
from annotation.services import exports_read
from annotation.services.exports import GoldFilter, gold_export_write
from tests.factories import DocumentFactory, GoldFactory

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database makes the JSON on PostgreSQL only"
)

TRICKY = [
    "".join(chr(c) for c in range(1, 32)) + " control characters, then DEL \x7f and C1 \x85\x9f",
    'quotes " and \\ backslashes \\" and \\\\n, slash / and </script>',
    "line\u2028separator, paragraph\u2029separator, BOM \ufeff, zero width \u200b",
    "emoji 🩺🧬, CJK 心电图, Übelkeit, 38,5 °C, β-Blocker, Ω, ﬁ ligature",
    "\r\nWindows\r\nline ends\r and a lone CR\n",
    "  spaces  ",
    "",
]


@pytest.fixture
def tricky(project):
    for n, text in enumerate(TRICKY):
        document = DocumentFactory(
            project=project,
            external_id=f'id "{n}" \\ ü',
            language=("en", "de", "pt-BR")[n % 3],
            split=("train", "val", "test", "none")[n % 4],
            text=text or "x",
        )
        values = {key: TRICKY[(n + i) % len(TRICKY)] for i, key in enumerate(reversed(ELMTEX_KEYS))}
        del values["diagnosis"]  # missing: N/A
        values["gender"] = None  # stored null: null
        values["not_a_category"] = "ignored"
        GoldFactory(document=document, values=values)
    return project


def python_path(monkeypatch):
    monkeypatch.setattr(exports_read, "sql_json_available", lambda: False)


@postgresql_only
@pytest.mark.parametrize("fmt", ["jsonl", "json", "chat"])
def test_single_file_bytes_equal_the_python_path(tmp_path, tricky, monkeypatch, fmt):
    assert exports_read.sql_json_available()
    by_sql = gold_export_write(project=tricky, out=str(tmp_path / "sql"), fmt=fmt, filters=GoldFilter())
    python_path(monkeypatch)
    by_python = gold_export_write(project=tricky, out=str(tmp_path / "py"), fmt=fmt, filters=GoldFilter())
    assert (tmp_path / "sql").read_bytes() == (tmp_path / "py").read_bytes()
    assert by_sql.files[0]["sha256"] == by_python.files[0]["sha256"]
    assert by_sql.records == by_python.records == len(TRICKY)


@postgresql_only
def test_hf_files_equal_the_python_path(tmp_path, tricky, monkeypatch):
    gold_export_write(project=tricky, out=str(tmp_path / "sql"), fmt="hf", filters=GoldFilter(split="train"))
    gold_export_write(project=tricky, out=str(tmp_path / "sql-all"), fmt="hf", filters=GoldFilter())
    python_path(monkeypatch)
    gold_export_write(project=tricky, out=str(tmp_path / "py-all"), fmt="hf", filters=GoldFilter())
    names = sorted(p.name for p in (tmp_path / "sql-all" / "data").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "py-all" / "data").iterdir())
    assert len(names) == 7  # train en, train pt-BR, validation de, validation en, test pt-BR, test de, unsplit en
    for name in names:
        assert (tmp_path / "sql-all" / "data" / name).read_bytes() == (tmp_path / "py-all" / "data" / name).read_bytes()


def test_lines_are_json_dumps_of_the_records(tmp_path, tricky):
    gold_export_write(project=tricky, out=str(tmp_path / "out.jsonl"), fmt="jsonl", filters=GoldFilter())
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").split("\n")
    assert lines.pop() == ""
    for line, text in zip(lines, TRICKY, strict=True):
        record = json.loads(line)
        assert record["report"] == (text or "x")
        assert record["summary"]["diagnosis"] == "N/A" and record["summary"]["gender"] is None
        assert list(record["summary"]) == list(ELMTEX_KEYS)
        assert line == json.dumps(record, ensure_ascii=False)
