"""inference/services/predictions.py: importing predictions as a run, exporting a run."""

import io
import json

import pytest

import elmtex_site
from annotation.schema import ELMTEX_KEYS
from elmtex_site.errors import ApplicationError
from inference.models import Candidate, ModelRun
from inference.services.predictions import predictions_export, predictions_import
from tests.factories import CandidateFactory, DocumentFactory, RunFactory

pytestmark = pytest.mark.django_db

NA_VALUES = {k: "N/A" for k in ELMTEX_KEYS}


def values(**given):
    return NA_VALUES | given


@pytest.fixture
def docs(project):
    return {ext: DocumentFactory(project=project, external_id=ext) for ext in ("1", "2", "10")}


@pytest.fixture
def write(tmp_path):
    def write(name, records, *, lines=None):
        path = tmp_path / name
        if lines is None:
            lines = name.endswith(".jsonl")
        text = "".join(json.dumps(r) + "\n" for r in records) if lines else json.dumps(records, indent=1)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def candidates(run):
    return {c.document.external_id: c for c in Candidate.objects.filter(run=run).select_related("document")}


def test_import_objects_and_strings(project, docs, write):
    path = write(
        "preds.jsonl",
        [
            {"patient_id": 1, "model_prediction": {"diagnosis": ["flu", "cold"], "age": 45, "extra": "x"}},
            {"patient_id": "2", "model_prediction": '```json\n{"Diagnosis": "asthma", "gender": null}\n```'},
            {"patient_id": "10", "model_prediction": "I cannot help with that."},
        ],
    )
    result = predictions_import(project=project, path=path, run_name="gpt-naive")
    assert result.summary_line() == "imported 3 predictions (1 parse errors, 0 skipped unknown ids)"
    run = ModelRun.objects.get()
    assert result.run == run
    assert (run.name, run.source, run.endpoint, run.strategy, run.status, run.total) == (
        "gpt-naive",
        "imported",
        None,
        "naive",
        "finished",
        3,
    )
    assert run.started_at and run.finished_at
    assert run.config["source"] == "import"
    assert run.config["file"] == "preds.jsonl"
    assert run.config["platform_version"] == elmtex_site.__version__
    assert run.config["schema"] == list(ELMTEX_KEYS)
    assert run.config["imported_at"]

    got = candidates(run)
    assert got["1"].status == "ok"
    assert got["1"].values == values(diagnosis="flu; cold", age="45")
    assert json.loads(got["1"].raw_output) == {"diagnosis": ["flu", "cold"], "age": 45, "extra": "x"}
    assert got["2"].status == "ok"
    assert got["2"].values == values(diagnosis="asthma")
    assert got["2"].raw_output.startswith("```json")
    assert got["10"].status == "parse_error"
    assert got["10"].values is None
    assert got["10"].raw_output == "I cannot help with that."
    assert got["10"].error == "no JSON object found"


def test_elmtex_scripts_cached_results_work_as_they_are(project, docs, write):
    """Their scripts keep the test records (integer ids, report, gold summary) and add the
    model's raw answer, fences and all."""
    records = [
        {
            "patient_id": 1,
            "report": "A 45-year-old man ...",
            "summary": {"diagnosis": "flu"},
            "model_prediction": '```json\n{\n  "diagnosis": "influenza A",\n  "age": "45",\n}\n```',
        },
        {
            "patient_id": 2,
            "report": "...",
            "summary": {},
            "model_prediction": {"diagnosis": "asthma", "signs_symptoms": ["wheeze", "dyspnoea"]},
        },
    ]
    path = write("results.json", records)
    result = predictions_import(project=project, path=path, run_name="llama-8b", strategy="advanced")
    assert result.summary_line() == "imported 2 predictions (0 parse errors, 0 skipped unknown ids)"
    assert result.run.strategy == "advanced"
    got = candidates(result.run)
    assert got["1"].values == values(diagnosis="influenza A", age="45")
    assert got["2"].values == values(diagnosis="asthma", signs_symptoms="wheeze; dyspnoea")


def test_record_language_overrides_the_default(project, docs, write):
    DocumentFactory(project=project, external_id="1", language="de")
    path = write("p.jsonl", [{"patient_id": "1", "language": "de", "model_prediction": {"gender": "weiblich"}}])
    run = predictions_import(project=project, path=path, run_name="de", language="en").run
    (candidate,) = Candidate.objects.filter(run=run).select_related("document")
    assert candidate.document.language == "de"
    assert candidate.values["gender"] == "weiblich"


def test_skip_unknown_counts_and_skips(project, docs, write):
    path = write(
        "p.jsonl",
        [
            {"patient_id": "1", "model_prediction": {}},
            {"patient_id": "404", "model_prediction": {}},
            {"patient_id": "2", "language": "de", "model_prediction": {}},
        ],
    )
    result = predictions_import(project=project, path=path, run_name="r", skip_unknown=True)
    assert result.summary_line() == "imported 1 predictions (0 parse errors, 2 skipped unknown ids)"
    assert list(candidates(result.run)) == ["1"]


def test_nothing_left_to_import_is_refused(project, docs, write):
    path = write("p.jsonl", [{"patient_id": "404", "model_prediction": {}}])
    with pytest.raises(ApplicationError, match="no predictions to import"):
        predictions_import(project=project, path=path, run_name="r", skip_unknown=True)
    assert not ModelRun.objects.exists()


def test_many_records_are_written_in_batches(project, write):
    for i in range(1, 2502):
        DocumentFactory(project=project, external_id=str(i))
    records = [{"patient_id": i, "model_prediction": {"age": str(i)}} for i in range(1, 2502)]
    result = predictions_import(project=project, path=write("big.jsonl", records), run_name="big")
    assert result.run.total == 2501
    assert Candidate.objects.filter(run=result.run, status="ok").count() == 2501


def test_a_refused_file_writes_nothing(project, docs, write):
    path = write(
        "p.jsonl",
        [{"patient_id": "1", "model_prediction": {}}, {"patient_id": "2", "model_prediction": 5}],
    )
    with pytest.raises(ApplicationError) as info:
        predictions_import(project=project, path=path, run_name="r")
    assert info.value.lines() == [
        f"error: {path}: record 2 (line 2): model_prediction: expected an object or a string, got a number"
    ]
    assert not ModelRun.objects.exists()
    assert not Candidate.objects.exists()


# --- export -------------------------------------------------------------------------------------


@pytest.fixture
def live_run(project, docs):
    run = RunFactory(project=project, name="live")
    CandidateFactory(run=run, document=docs["10"], values=values(diagnosis="flu", age="3"))
    CandidateFactory(run=run, document=docs["2"], status="parse_error", values=None, raw_output="oops {")
    CandidateFactory(run=run, document=docs["1"], status="failed", values=None, raw_output="", error="HTTP 500")
    german = DocumentFactory(project=project, external_id="2", language="de")
    CandidateFactory(run=run, document=german, status="too_long", values=None, raw_output="")
    CandidateFactory(run=run, document=DocumentFactory(project=project, external_id="3"), status="pending", values=None)
    return run


def test_export_writes_one_line_per_processed_candidate_in_patient_id_order(live_run):
    out = io.StringIO()
    assert predictions_export(run=live_run, out=out) == 4
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows == [
        {"patient_id": "1", "language": "en", "status": "failed", "model_prediction": None},
        {"patient_id": "2", "language": "de", "status": "too_long", "model_prediction": None},
        {"patient_id": "2", "language": "en", "status": "parse_error", "model_prediction": "oops {"},
        {"patient_id": "10", "language": "en", "status": "ok", "model_prediction": values(diagnosis="flu", age="3")},
    ]
    assert list(rows[3]["model_prediction"]) == list(ELMTEX_KEYS)  # schema order


def test_export_then_import_gives_back_the_same_values_and_statuses(project, live_run, tmp_path):
    path = tmp_path / "export.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        predictions_export(run=live_run, out=fh)
    imported = predictions_import(project=project, path=path, run_name="copy").run

    def state(run):
        return {
            (c.document.external_id, c.document.language): (
                c.status,
                c.values,
                c.raw_output if c.values is None else "",
            )
            for c in Candidate.objects.filter(run=run).exclude(status="pending").select_related("document")
        }

    assert state(imported) == state(live_run)
    assert imported.total == 4
