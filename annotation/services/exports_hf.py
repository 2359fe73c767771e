"""The ``hf`` export: a folder ready for Hugging Face ``datasets``.

Layout::

    OUT/README.md                                      dataset card (YAML metadata + text)
    OUT/manifest.json                                  records, bytes, SHA-256 per file
    OUT/data/<split>-<i>-of-<n>-<language>.jsonl       one file per split and language

Records are the ELMTEX records of the ``jsonl`` export (same keys, same order, the
platform's split names inside), so a data file imports back with ``import_dataset``.

File names use Hugging Face's split names (``train``, ``validation``, ``test``;
documents without a split go to ``unsplit``) in the shard naming ``datasets`` reads
before any other (``data/{split}-NNNNN-of-NNNNN*``), one shard per language: so
``load_dataset("json", data_dir=OUT)`` gives every split, ``unsplit`` included, and
never reads ``manifest.json`` as data (the plain ``<split>-<language>.jsonl`` names
would lose ``unsplit`` next to other splits and, without splits, read the manifest).
``load_dataset(OUT)`` reads the card's ``configs``: ``default`` (all languages) and
one config per language.

The folder is written next to ``OUT`` under a temporary name and renamed into place
when complete; records are streamed once into files opened as their (split, language)
first appears, so memory stays constant.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable

import yaml
from django.db.models import Count, Max
from django.utils import timezone

import elmtex_site
from elmtex_site.errors import ApplicationError

from ..models import Gold, Project
from .exports import WRITE_BLOCK_CHARS, ExportResult, ProgressCounter, export_manifest
from .exports_read import (
    CHUNK,
    GoldFilter,
    category_keys,
    gold_count,
    gold_document_ids,
    gold_documents,
    gold_filter_resolve,
    gold_lines,
)

HF_SPLITS = {"train": "train", "val": "validation", "test": "test", "none": "unsplit"}
SPLIT_ORDER = ("train", "validation", "test", "unsplit")
DATA_DIR = "data"
CARD = "README.md"
MANIFEST = "manifest.json"
RECORD_FIELDS = ("patient_id", "language", "split", "report")
AGREEMENT_COLUMNS = (
    ("items", "items"),
    ("annotators", "annotators"),
    ("krippendorff_alpha", "Krippendorff's α"),
    ("fleiss_kappa", "Fleiss' κ"),
    ("cohen_kappa_mean", "mean Cohen's κ"),
    ("text_rougeL_mean", "text ROUGE-L"),
    ("text_entity_f1_mean", "text entity F1"),
)


def hf_out_check(out: str, *, prefix: str = "--") -> None:
    """``out`` must be a new folder, or an empty one, in a folder that exists."""
    if not out or out == "-":
        raise ApplicationError(f"{prefix}out: --format hf writes a folder; give its path (not standard output)")
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise ApplicationError(f"{prefix}out: {out} is a file; --format hf writes a folder, give a new one")
        if os.listdir(out):
            raise ApplicationError(
                f"{prefix}out: {out} exists and is not empty; give a new or empty folder for --format hf"
            )
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise ApplicationError(f"{prefix}out: directory {parent} does not exist")


class _PartWriter:
    """One data file being written: UTF-8 blocks, counted and hashed."""

    def __init__(self, path: str):
        self.path = path
        self.fh = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.digest = hashlib.sha256()
        self.bytes = 0
        self.records = 0
        self.block: list[str] = []
        self.size = 0

    def write(self, line: str) -> None:
        self.block.append(line)
        self.size += len(line)
        self.records += 1
        if self.size >= WRITE_BLOCK_CHARS:
            self.flush()

    def flush(self) -> None:
        if self.block:
            data = "".join(self.block).encode("utf-8")
            self.fh.write(data)
            self.digest.update(data)
            self.bytes += len(data)
            self.block, self.size = [], 0

    def close(self) -> None:
        self.flush()
        self.fh.close()


def data_file_name(split: str, index: int, count: int, language: str) -> str:
    return f"{DATA_DIR}/{split}-{index:05d}-of-{count:05d}-{language}.jsonl"


def hf_export_write(
    *, project: Project, out: str, filters: GoldFilter, progress: Callable[[int, int], None] | None = None
) -> ExportResult:
    """Write the ``hf`` folder at ``out`` (new or empty); see the module docstring."""
    hf_out_check(out)
    filters = gold_filter_resolve(project=project, filters=filters)
    keys = category_keys(project)
    total = gold_count(project=project, filters=filters)
    counter = ProgressCounter(progress, total)
    exported_at = timezone.now().isoformat(timespec="seconds")
    parent = os.path.dirname(os.path.abspath(out))
    try:
        tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(os.path.abspath(out))}.", suffix=".partial", dir=parent)
    except OSError as exc:
        raise ApplicationError(f"--out: cannot write {out}: {exc.strerror}") from None
    writers: dict[tuple[str, str], _PartWriter] = {}
    try:
        os.mkdir(os.path.join(tmp, DATA_DIR))
        for row in gold_lines(project=project, filters=filters):
            counter()
            language, split, line = row[0], row[1], row[2]
            part = (HF_SPLITS.get(split, "unsplit"), language)
            writer = writers.get(part)
            if writer is None:
                writer = writers[part] = _PartWriter(os.path.join(tmp, DATA_DIR, f".{part[0]}.{part[1]}.partial"))
            writer.write(line + "\n")
        for writer in writers.values():
            writer.close()
        files = _files_name(tmp, writers)
        gold = gold_provenance(project=project, filters=filters)
        manifest = export_manifest(
            project=project,
            fmt="hf",
            filters=filters,
            files=files,
            skipped={},
            exported_at=exported_at,
            extra={"gold": gold},
        )
        card = dataset_card(
            project=project, keys=keys, files=files, filters=filters, gold=gold, exported_at=exported_at
        )
        with open(os.path.join(tmp, CARD), "w", encoding="utf-8", newline="") as fh:
            fh.write(card)
        with open(os.path.join(tmp, MANIFEST), "w", encoding="utf-8", newline="") as fh:
            fh.write(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        _usual_modes(tmp)
        if os.path.isdir(out):
            os.rmdir(out)  # empty (checked); a folder filled meanwhile makes this fail
        os.rename(tmp, out)
    except OSError as exc:
        _cleanup(tmp, writers)
        raise ApplicationError(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    except BaseException:
        _cleanup(tmp, writers)
        raise
    counter.finish()
    records = sum(f["records"] for f in files)
    return ExportResult(records=records, skipped={}, files=files, manifest=manifest)


def _files_name(tmp: str, writers: dict[tuple[str, str], _PartWriter]) -> list[dict]:
    """Give the data files their final names (shard i of n per split, by language)."""
    files = []
    for split in SPLIT_ORDER:
        languages = sorted(language for s, language in writers if s == split)
        for index, language in enumerate(languages):
            writer = writers[(split, language)]
            name = data_file_name(split, index, len(languages), language)
            os.rename(writer.path, os.path.join(tmp, name))
            files.append(
                {
                    "path": name,
                    "split": split,
                    "language": language,
                    "records": writer.records,
                    "bytes": writer.bytes,
                    "sha256": writer.digest.hexdigest(),
                }
            )
    return files


def _usual_modes(tmp: str) -> None:
    """mkdtemp makes the folder its owner's only; give everything the usual modes."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    os.chmod(os.path.join(tmp, DATA_DIR), 0o777 & ~umask)
    for root, _dirs, names in os.walk(tmp):
        for name in names:
            os.chmod(os.path.join(root, name), 0o666 & ~umask)


def _cleanup(tmp: str, writers: dict) -> None:
    for writer in writers.values():
        if not writer.fh.closed:
            writer.fh.close()
    shutil.rmtree(tmp, ignore_errors=True)


def gold_provenance(*, project: Project, filters: GoldFilter) -> dict:
    """Counts of the exported gold by origin and by version, and when it last changed
    (aggregated in the database, a chunk of ids at a time with the agreement filter)."""
    documents = gold_documents(project=project, filters=filters)
    ids = gold_document_ids(project=project, filters=filters)
    golds = Gold.objects.filter(document__in=documents.values("id"))
    selections = (
        [golds]
        if ids is None
        else [golds.filter(document_id__in=ids[i : i + CHUNK]) for i in range(0, len(ids), CHUNK)]
    )
    origins: Counter = Counter()
    versions: Counter = Counter()
    last = None
    for selection in selections:
        for row in selection.values("origin").annotate(n=Count("pk")).order_by():
            origins[row["origin"]] += row["n"]
        for row in selection.values("version").annotate(n=Count("pk")).order_by():
            versions[str(row["version"])] += row["n"]
        changed = selection.aggregate(last=Max("updated_at"))["last"]
        if changed is not None and (last is None or changed > last):
            last = changed
    return {
        "origins": dict(sorted(origins.items())),
        "versions": dict(sorted(versions.items(), key=lambda item: int(item[0]))),
        "last_changed": last.isoformat(timespec="seconds") if last else None,
    }


def latest_agreement(project: Project):
    from evaluation.models import AgreementReport, EvaluationStatus

    return (
        AgreementReport.objects.filter(project=project, status=EvaluationStatus.DONE)
        .order_by("-created_at", "-id")
        .first()
    )


# --- the dataset card -------------------------------------------------------------------


def _features(keys: list[str]) -> list[dict]:
    return [
        *({"name": name, "dtype": "string"} for name in RECORD_FIELDS),
        {"name": "summary", "struct": [{"name": key, "dtype": "string"} for key in keys]},
    ]


def _config(name: str, files: list[dict], keys: list[str], *, default: bool = False) -> tuple[dict, dict]:
    """A ``configs`` entry and its ``dataset_info`` entry for the given data files."""
    splits = [s for s in SPLIT_ORDER if any(f["split"] == s for f in files)]
    config = {"config_name": name}
    if default:
        config["default"] = True
        config["data_files"] = [{"split": s, "path": f"{DATA_DIR}/{s}-*.jsonl"} for s in splits]
    else:
        # The language's files by name, not by a pattern: "*-br.jsonl" would also take "pt-br".
        config["data_files"] = [{"split": s, "path": [f["path"] for f in files if f["split"] == s]} for s in splits]
    size = sum(f["bytes"] for f in files)
    info = {
        "config_name": name,
        "features": _features(keys),
        "splits": [
            {
                "name": s,
                "num_bytes": sum(f["bytes"] for f in files if f["split"] == s),
                "num_examples": sum(f["records"] for f in files if f["split"] == s),
            }
            for s in splits
        ],
        "download_size": size,
        "dataset_size": size,
    }
    return config, info


def card_metadata(*, project: Project, keys: list[str], files: list[dict]) -> dict:
    """The YAML front matter: languages, configs (``data_files`` per split) and
    ``dataset_info`` (features, splits with their counts). No configs without files."""
    languages = sorted({f["language"] for f in files})
    meta: dict = {"pretty_name": project.name, "language": languages, "tags": ["elmtex", "clinical", "extraction"]}
    if not files:
        return meta
    pairs = [_config("default", files, keys, default=True)]
    if len(languages) > 1:
        pairs += [_config(language, [f for f in files if f["language"] == language], keys) for language in languages]
    meta["configs"] = [config for config, _ in pairs]
    meta["dataset_info"] = [info for _, info in pairs]
    return meta


def _cell(value) -> str:
    """Markdown table cell: one line, pipes escaped."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    text = " ".join(str(value).split())
    return text.replace("|", "\\|") or "–"


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _agreement_section(project: Project, keys: list[str]) -> list[str]:
    report = latest_agreement(project)
    lines = ["## Agreement", ""]
    if report is None:
        return [
            *lines,
            "None measured: the project has no finished agreement report (compute one with "
            f"`python manage.py agreement {project.slug}` or on its agreement page, then export again).",
            "",
        ]
    results = report.results or {}
    config = report.config or {}
    scope = ", ".join(f"{k} {config[k]}" for k in ("language", "split") if config.get(k)) or "all documents"
    lines += [
        f"Inter-annotator agreement from agreement report {report.pk} of "
        f"{report.created_at.isoformat(timespec='seconds')} ({scope}; judgements nominal, text agreement "
        "between annotators). It describes the project's annotations when it was computed, not only the "
        "records exported here.",
        "",
    ]
    categories = results.get("categories") or {}
    rows = [[key, *(categories.get(key, {}).get(name) for name, _ in AGREEMENT_COLUMNS)] for key in keys]
    overall = results.get("overall") or {}
    if overall:
        rows.append(["overall", *(overall.get(name) for name, _ in AGREEMENT_COLUMNS)])
    lines += _table(["category", *(label for _, label in AGREEMENT_COLUMNS)], rows)
    return [*lines, ""]


def dataset_card(
    *, project: Project, keys: list[str], files: list[dict], filters: GoldFilter, gold: dict, exported_at: str
) -> str:
    meta = card_metadata(project=project, keys=keys, files=files)
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    records = sum(f["records"] for f in files)
    lines = [
        "---",
        front.rstrip("\n"),
        "---",
        "",
        f"# {project.name}: ELMTEX gold dataset",
        "",
    ]
    if project.description.strip():
        lines += [" ".join(project.description.split()), ""]
    lines += [
        f"Structured summaries of clinical case reports (gold standard), {records} records, exported from "
        f"the ELMTEX platform project `{project.slug}`. Each record holds the report and its summary: one "
        "text per category of the schema below (`N/A` where the report does not mention it).",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        'ds = load_dataset("json", data_dir="PATH")  # splits from the file names',
        'ds = load_dataset("PATH")  # the configs of this card; load_dataset("PATH", "<language>") for one language',
        "```",
        "",
        "Split names follow Hugging Face (`train`, `validation`, `test`); documents without a split are in "
        "`unsplit`. Inside the records `split` keeps the platform's names (`train`, `val`, `test`, `none`), so "
        "each data file imports back into the platform with `import_dataset`.",
        "",
        "## Files",
        "",
    ]
    if files:
        lines += _table(
            ["split", "language", "file", "records"],
            [[f["split"], f["language"], f["path"], f["records"]] for f in files],
        )
    else:
        lines.append("No records matched the filters; there are no data files.")
    lines += [
        "",
        "`manifest.json` lists every file with its record count, size and SHA-256.",
        "",
        "## Record format",
        "",
        "`patient_id` (string), `language`, `split`, `report` (the case report), `summary` (an object with one "
        "string per category key, in schema order).",
        "",
        "## Category schema",
        "",
    ]
    categories = project.categories.order_by("order", "pk")
    lines += _table(["key", "label", "guideline"], [[c.key, c.label, c.guideline] for c in categories])
    lines.append("")
    lines += _agreement_section(project, keys)
    filter_text = ", ".join(f"{k}={v}" for k, v in filters.as_dict().items() if v not in (None, False)) or "none"
    origins = ", ".join(f"{k} {v}" for k, v in gold["origins"].items()) or "none"
    versions = ", ".join(f"version {k}: {v}" for k, v in gold["versions"].items()) or "none"
    lines += [
        "## Provenance",
        "",
        f"- Project: {_cell(project.name)} (`{project.slug}`)",
        f"- Exported at: {exported_at}",
        f"- Platform: ELMTEX {elmtex_site.__version__}",
        f"- Filters: {filter_text}",
        f"- Gold origins: {origins}",
        f"- Gold versions: {versions}" + (f" (last changed {gold['last_changed']})" if gold["last_changed"] else ""),
        "",
    ]
    return "\n".join(lines)
