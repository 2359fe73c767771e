"""Prediction files, record by record (CLI.md ``import_predictions`` and
``export_predictions``; pure, no Django): opening and telling the format of a file,
validating one record, what a candidate stores for it, and one export line.

A record is ``{"patient_id", "model_prediction": object|string, "language"?, "status"?}``;
any other key (the ELMTEX scripts keep ``report`` and ``summary`` beside the
prediction) is ignored. ``status`` matters only for the records ``export_predictions``
writes without output (``too_long``, ``failed``: ``model_prediction`` null), so that
an export imports back with the same statuses.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from annotation.pipeline.readers import ReadError, detect_format, kind_of, utf8_chunks
from annotation.pipeline.records import check_language, normalise_patient_id, unstorable_text
from elmtex_site.errors import ApplicationError, Problem

from .parsing import candidate_parse_output, values_coerce

OK, PARSE_ERROR, TOO_LONG, FAILED = "ok", "parse_error", "too_long", "failed"
IMPORTABLE_STATUSES = (OK, PARSE_ERROR, TOO_LONG, FAILED)
WITHOUT_OUTPUT = (TOO_LONG, FAILED)  # statuses whose prediction may be null
FORMATS = ("json", "jsonl")
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class PredictionRecord:
    external_id: str
    language: str
    prediction: dict | str | None
    status: str | None = None  # as given in the file; None when absent


@dataclass(frozen=True)
class CandidateFields:
    status: str
    values: dict[str, str] | None
    raw_output: str
    error: str = ""

    def as_dict(self) -> dict:
        return {"status": self.status, "values": self.values, "raw_output": self.raw_output, "error": self.error}


def _given(value: Any, default: str) -> Any:
    """A null or blank field means "not given": the flag applies."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    return value.strip() if isinstance(value, str) else value


def prediction_record_parse(
    value: Any, *, language: str, check_text: bool = True
) -> tuple[PredictionRecord | None, list[tuple[str | None, str]]]:
    """Validate one decoded record: the record, or ``(field, problem)`` pairs."""
    if not isinstance(value, dict):
        return None, [(None, f"expected an object (a record), got {kind_of(value)}")]
    if check_text:
        bad = unstorable_text({k: value[k] for k in ("patient_id", "model_prediction", "language") if k in value}, "")
        if bad:
            return None, [bad]
    problems: list[tuple[str | None, str]] = []

    external_id = None
    if "patient_id" not in value:
        problems.append(("patient_id", "missing; every record needs an id"))
    else:
        external_id, problem = normalise_patient_id(value["patient_id"])
        if problem:
            problems.append(("patient_id", problem))

    record_language = _given(value.get("language"), language)
    problem = check_language(record_language)
    if problem:
        problems.append(("language", problem))

    status = value.get("status")
    if status is not None and status not in IMPORTABLE_STATUSES:
        problems.append(("status", f"expected one of {', '.join(IMPORTABLE_STATUSES)}, got {status!r}"))
        status = None

    prediction = value.get("model_prediction")
    if "model_prediction" not in value:
        problems.append(("model_prediction", "missing; every record needs the model's prediction"))
    elif prediction is None:
        if status not in WITHOUT_OUTPUT:
            problems.append(("model_prediction", "is null; expected an object or a string"))
    elif not isinstance(prediction, (dict, str)):
        problems.append(("model_prediction", f"expected an object or a string, got {kind_of(prediction)}"))

    if problems:
        return None, problems
    return PredictionRecord(external_id, record_language, prediction, status), []


def candidate_fields(record: PredictionRecord, keys: Sequence[str]) -> CandidateFields:
    """What a candidate stores for an imported prediction.

    An object is coerced as live output is; its JSON text is kept as the raw output. A
    string goes through the same tolerant parser as live output; one that does not
    parse is kept as it is, with the reason.
    """
    prediction = record.prediction
    if prediction is None:  # an exported too_long / failed candidate
        return CandidateFields(record.status or FAILED, None, "")
    if isinstance(prediction, dict):
        return CandidateFields(OK, values_coerce(prediction, keys), json.dumps(prediction, ensure_ascii=False))
    parsed = candidate_parse_output(prediction, keys)
    if parsed.ok:
        return CandidateFields(OK, parsed.values, prediction)
    return CandidateFields(PARSE_ERROR, None, prediction, parsed.error)


# --- files ---------------------------------------------------------------------------------------


def refusal(message: str, *, file: str | None = None, field: str | None = None) -> ApplicationError:
    where = ": ".join(p for p in (file, field) if p)
    return ApplicationError(
        f"{where}: {message}" if where else message, problems=[Problem(message, file=file, field=field)]
    )


def file_open(path: str, name: str) -> tuple[IO[bytes], int]:
    try:
        size = os.path.getsize(path)
        return open(path, "rb"), size  # noqa: SIM115 - the caller closes it
    except IsADirectoryError:
        raise refusal("is a directory, expected a file", file=name) from None
    except OSError as exc:
        raise refusal(f"cannot read the file: {exc.strerror}", file=name) from None


def file_format(stream: IO[bytes], name: str, fmt: str) -> str:
    """JSON array or JSON lines: as asked, else by extension, else by the first non-space byte."""
    if fmt in FORMATS:
        return fmt
    if fmt != "auto":
        raise refusal(f"expected auto, json or jsonl, got {fmt!r}", field="format")
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    fmt = detect_format(name, head)
    if fmt == "csv":
        raise refusal("CSV is not read for predictions; write a JSON array or JSON lines", file=name)
    if fmt is None:
        if not head.removeprefix(codecs.BOM_UTF8).strip():
            raise refusal("no records", file=name)
        try:
            next(utf8_chunks(stream), None)
        except ReadError as exc:
            raise refusal(exc.message, file=name) from None
        raise refusal(
            "cannot tell the format: the first character is neither '[' nor '{'; name the file .json or "
            ".jsonl, or pass --format",
            file=name,
        )
    return fmt


# --- export ------------------------------------------------------------------------------------


def _ordered(values: dict, keys: list[str]) -> dict:
    """Values in schema order; keys the schema lost since stay, after the others."""
    ordered = {k: values[k] for k in keys if k in values}
    ordered.update((k, v) for k, v in values.items() if k not in ordered)
    return ordered


def prediction_export_record(
    *, external_id: str, language: str, status: str, values: dict | None, raw_output: str, keys: list[str]
) -> dict:
    """One export line: the parsed object, the raw output when it did not parse, or
    null for a candidate without output (too long, failed)."""
    if status in (TOO_LONG, FAILED):
        prediction = None
    elif status == OK and values is not None:
        prediction = _ordered(values, keys)
    else:
        prediction = raw_output
    return {"patient_id": external_id, "language": language, "status": status, "model_prediction": prediction}
