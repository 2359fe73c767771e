"""import_predictions / export_predictions as a shell runs them (CLI.md "Runs")."""

import json

import pytest

from annotation.schema import ELMTEX_KEYS
from inference.models import Candidate, ModelRun
from tests.factories import CandidateFactory, DocumentFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def docs(project):
    return {ext: DocumentFactory(project=project, external_id=ext) for ext in ("1", "2", "3")}


@pytest.fixture
def write(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        return str(path)

    return write


def jsonl(*records):
    return "".join(json.dumps(r) + "\n" for r in records)


def assert_refused(result, *lines):
    assert result.code == 1, (result.out, result.err)
    assert result.out == ""
    assert "Traceback" not in result.err
    assert result.err_lines == list(lines)
    assert not ModelRun.objects.exists()
    assert not Candidate.objects.exists()


def test_import_prints_the_run_then_the_summary(run_cli, docs, write):
    path = write(
        "p.jsonl",
        jsonl(
            {"patient_id": 1, "model_prediction": {"diagnosis": "flu"}},
            {"patient_id": 2, "model_prediction": '{"diagnosis": "cold",}'},
            {"patient_id": 3, "model_prediction": "no idea"},
        ),
    )
    result = run_cli("import_predictions", "p1", path, "--run-name", "mine")
    assert result.code == 0, result.err
    run = ModelRun.objects.get()
    assert result.out == f"run {run.pk}\nimported 3 predictions (1 parse errors, 0 skipped unknown ids)\n"
    assert Candidate.objects.filter(run=run, status="ok").count() == 2


def test_skip_unknown(run_cli, docs, write):
    path = write(
        "p.json", json.dumps([{"patient_id": 1, "model_prediction": {}}, {"patient_id": 9, "model_prediction": {}}])
    )
    result = run_cli("import_predictions", "p1", path, "--run-name", "mine", "--skip-unknown")
    assert result.code == 0, result.err
    assert result.out.splitlines()[1] == "imported 1 predictions (0 parse errors, 1 skipped unknown ids)"


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"model_prediction": {}}, "patient_id: missing; every record needs an id"),
        ({"patient_id": None, "model_prediction": {}}, "patient_id: is null; every record needs an id"),
        ({"patient_id": "  ", "model_prediction": {}}, "patient_id: is blank; every record needs an id"),
        (
            {"patient_id": True, "model_prediction": {}},
            "patient_id: expected a string or an integer, got a boolean",
        ),
        (
            {"patient_id": 1.5, "model_prediction": {}},
            "patient_id: expected a string or an integer, got a number with a fraction or exponent",
        ),
        (
            {"patient_id": {"id": 1}, "model_prediction": {}},
            "patient_id: expected a string or an integer, got an object",
        ),
        (
            {"patient_id": 1},
            "model_prediction: missing; every record needs the model's prediction",
        ),
        ({"patient_id": 1, "model_prediction": None}, "model_prediction: is null; expected an object or a string"),
        (
            {"patient_id": 1, "model_prediction": ["a"]},
            "model_prediction: expected an object or a string, got a list",
        ),
        (
            {"patient_id": 1, "model_prediction": {}, "language": "english"},
            "language: expected a language code such as 'en' or 'de', got 'english'",
        ),
        (
            {"patient_id": 1, "model_prediction": {}, "status": "pending"},
            "status: expected one of ok, parse_error, too_long, failed, got 'pending'",
        ),
        (
            {"patient_id": 1, "model_prediction": "a\u0000b"},
            "model_prediction: holds a NUL character (\\u0000); remove it",
        ),
        (
            {"patient_id": 9, "model_prediction": {}},
            "patient_id: id '9' (language en) is not in the project; import the dataset first, "
            "or pass --skip-unknown to skip such records",
        ),
        (["not", "a", "record"], "expected an object (a record), got a list"),
    ],
)
def test_refused_records(run_cli, docs, write, record, problem):
    path = write("p.jsonl", jsonl({"patient_id": 2, "model_prediction": {}}, record))
    result = run_cli("import_predictions", "p1", path, "--run-name", "mine")
    assert_refused(result, f"error: {path}: record 2 (line 2): {problem}")


def test_the_same_id_twice_names_both_records(run_cli, docs, write):
    path = write(
        "p.json",
        json.dumps([{"patient_id": 1, "model_prediction": {}}, {"patient_id": "1", "model_prediction": "x"}], indent=1),
    )
    result = run_cli("import_predictions", "p1", path, "--run-name", "mine")
    assert_refused(
        result,
        f"error: {path}: record 2 (line 6): patient_id: duplicate id '1' (language en): also record 1 (line 2)",
    )


def test_every_problem_is_listed_up_to_twenty(run_cli, docs, write):
    path = write("p.jsonl", jsonl(*({"patient_id": None, "model_prediction": {}} for _ in range(25))))
    result = run_cli("import_predictions", "p1", path, "--run-name", "mine")
    assert result.code == 1
    assert len(result.err_lines) == 21
    assert result.err_lines[-1] == "error: ... and 5 more"
    assert not ModelRun.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("p.jsonl", "", "no records"),
        ("p.json", "[]", "no records"),
        ("p.json", '{"patient_id": 1}', "line 1: expected a JSON array of records, got a JSON object"),
        (
            "p.jsonl",
            '{"patient_id": 1, "model_prediction": {}}\n{"patient_id": 2,\n',
            "record 2 (line 2): invalid JSON",
        ),
        ("p.json", '[{"patient_id": 1, "model_prediction": {}},', "record 2 (line 1): invalid JSON"),
        ("p.jsonl", b'{"patient_id": 1, "model_prediction": "\xff"}\n', "not valid UTF-8 at byte 39"),
        ("p.csv", "patient_id,model_prediction\n1,x\n", "CSV is not read for predictions"),
        ("p.txt", "hello", "cannot tell the format"),
    ],
)
def test_refused_files(run_cli, docs, write, name, content, problem):
    path = write(name, content)
    result = run_cli("import_predictions", "p1", path, "--run-name", "mine")
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith(f"error: {path}: {problem}"), result.err
    assert not ModelRun.objects.exists()


def test_format_flag_reads_a_file_of_any_name(run_cli, docs, write):
    path = write("p.txt", jsonl({"patient_id": 1, "model_prediction": {"age": 4}}))
    result = run_cli("import_predictions", "p1", path, "--run-name", "mine", "--format", "jsonl")
    assert result.code == 0, result.err
    assert Candidate.objects.get().values["age"] == "4"


def test_a_missing_file(run_cli, docs, tmp_path):
    path = tmp_path / "nope.jsonl"
    result = run_cli("import_predictions", "p1", str(path), "--run-name", "mine")
    assert result.code == 1
    assert result.err_lines == [f"error: {path}: cannot read the file: No such file or directory"]


def test_a_run_name_already_used_in_the_project_is_refused(run_cli, project, docs, write):
    existing = RunFactory(project=project, name="mine")
    path = write("p.jsonl", jsonl({"patient_id": 1, "model_prediction": {}}))
    result = run_cli("import_predictions", "p1", path, "--run-name", "mine")
    assert result.code == 1
    assert result.err_lines == [
        f"error: project 'p1' already has a run named 'mine' (run {existing.pk}); choose another name"
    ]
    assert ModelRun.objects.count() == 1
    assert not Candidate.objects.exists()


def test_usage_errors_exit_2(run_cli, docs, write):
    path = write("p.jsonl", jsonl({"patient_id": 1, "model_prediction": {}}))
    assert run_cli("import_predictions", "p1", path).code == 2
    assert run_cli("export_predictions", "p1", "--out", "-").code == 2


def test_unknown_project(run_cli, write):
    path = write("p.jsonl", jsonl({"patient_id": 1, "model_prediction": {}}))
    result = run_cli("import_predictions", "nope", path, "--run-name", "x")
    assert result.code == 1
    assert result.err_lines == ["error: project 'nope' does not exist; create it with create_project"]


# --- export -------------------------------------------------------------------------------------


@pytest.fixture
def live_run(project, docs):
    run = RunFactory(project=project, name="live")
    CandidateFactory(run=run, document=docs["1"], values={k: "N/A" for k in ELMTEX_KEYS} | {"diagnosis": "flu"})
    CandidateFactory(run=run, document=docs["2"], status="parse_error", values=None, raw_output="```json\n{oops")
    CandidateFactory(run=run, document=docs["3"], status="pending", values=None, raw_output="")
    return run


def test_export_to_a_file_and_import_it_back(run_cli, live_run, tmp_path):
    out = tmp_path / "preds.jsonl"
    result = run_cli("export_predictions", "p1", "--run", "live", "--out", str(out))
    assert result.code == 0, result.err
    assert result.out == ""
    assert result.err_lines == [
        f"exported 2 predictions of run {live_run.pk} to {out} (1 pending left out)",
        f"run configuration written to {out}.run.json",
    ]
    # the frozen configuration travels with the results
    provenance = json.loads((tmp_path / "preds.jsonl.run.json").read_text(encoding="utf-8"))
    assert provenance["run"] == {"id": live_run.pk, "name": "live", "strategy": "naive", "source": "live"}
    assert provenance["config"] == live_run.config
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["patient_id"], r["status"]) for r in rows] == [("1", "ok"), ("2", "parse_error")]
    assert rows[0]["model_prediction"]["diagnosis"] == "flu"
    assert rows[1]["model_prediction"] == "```json\n{oops"
    assert not list(tmp_path.glob(".*partial"))

    back = run_cli("import_predictions", "p1", str(out), "--run-name", "copy")
    assert back.code == 0, back.err
    assert back.out.splitlines()[1] == "imported 2 predictions (1 parse errors, 0 skipped unknown ids)"
    copy = ModelRun.objects.get(name="copy")
    got = {c.document.external_id: c for c in Candidate.objects.filter(run=copy).select_related("document")}
    want = {c.document.external_id: c for c in Candidate.objects.filter(run=live_run).select_related("document")}
    assert got["1"].values == want["1"].values
    assert (got["2"].status, got["2"].raw_output) == ("parse_error", want["2"].raw_output)


def test_export_to_stdout_by_run_id(run_cli, live_run):
    result = run_cli("export_predictions", "p1", "--run", str(live_run.pk), "--out", "-")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert [json.loads(line)["patient_id"] for line in lines] == ["1", "2"]
    assert list(json.loads(lines[0])) == ["patient_id", "language", "status", "model_prediction"]


def test_export_config_to_a_path_of_ones_choice(run_cli, live_run, tmp_path):
    live_run.config = {"prompt_template": {"system": "Extract."}, "generation": {"temperature": 0}}
    live_run.save(update_fields=["config"])
    result = run_cli(
        "export_predictions", "p1", "--run", "live", "--out", "-", "--config-out", str(tmp_path / "run.json")
    )
    assert result.code == 0, result.err
    assert json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))["config"] == live_run.config
    missing = run_cli("export_predictions", "p1", "--run", "live", "--out", "-", "--config-out", "/nowhere/x.json")
    assert missing.code == 1 and missing.out == ""
    assert missing.err_lines == ["error: --config-out: directory /nowhere does not exist"]


def test_export_refusals(run_cli, live_run, tmp_path):
    result = run_cli("export_predictions", "p1", "--run", "nope", "--out", "-")
    assert (result.code, result.err_lines) == (1, ["error: no run is named 'nope' in project 'p1'"])
    result = run_cli("export_predictions", "p1", "--run", "live", "--out", str(tmp_path / "missing" / "x.jsonl"))
    assert result.code == 1
    assert result.err_lines == [f"error: --out: directory {tmp_path / 'missing'} does not exist"]
    result = run_cli("export_predictions", "p1", "--run", "live", "--out", str(tmp_path))
    assert result.code == 1
    assert "is a directory" in result.err
