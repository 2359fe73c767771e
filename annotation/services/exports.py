"""Gold export (CLI.md ``export_gold``): streaming, constant memory, round-trips.

Records are written in the ELMTEX shape with the key order ``patient_id, language,
split, report, summary`` and summary keys in schema order, so importing an export gives
back the same records. ``jsonl``, ``json``, ``csv`` and ``chat`` are one file (or
standard output); ``hf`` is a folder (:mod:`.exports_hf`). :func:`gold_export_write`
is the one entry point for all of them (CLI, export jobs); every file it writes is
described in a manifest (records, bytes, SHA-256).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from django.utils import timezone

import elmtex_site
from elmtex_site.errors import ApplicationError
from elmtex_site.files import atomic_text_output, output_path_check

from ..models import Project
from ..pipeline.records import check_language, normalise_split
from .exports_read import (
    GoldFilter,
    category_keys,
    gold_chat_parts,
    gold_count,
    gold_filter_resolve,
    gold_lines,
    gold_records,
)

if TYPE_CHECKING:
    from inference.models import ModelRun

EXPORT_FORMATS = ("jsonl", "json", "csv", "hf", "chat")
# Formats written as one file (or to standard output); ``hf`` is a folder.
SINGLE_FILE_FORMATS = ("jsonl", "json", "csv", "chat")
# Text is handed to the output in blocks of about this many characters: one write and
# one hash update per block instead of per record, memory still constant.
WRITE_BLOCK_CHARS = 256 * 1024
# ``progress(done, total)`` is called every this many records (and at the end).
PROGRESS_EVERY = 500


@dataclass
class ExportResult:
    """What an export wrote: ``files`` entries are ``{"path", "records", "bytes",
    "sha256"}`` (path relative to the output folder, or the file's name); ``manifest``
    is the JSON the manifest file holds."""

    records: int
    skipped: dict[str, int]
    files: list[dict]
    manifest: dict


@dataclass
class ExportStats:
    """Filled while writing one file: records written, records skipped by reason, and
    the UTF-8 bytes written with their SHA-256."""

    records: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    digest: object = field(default_factory=hashlib.sha256)

    def add_text(self, text: str) -> None:
        data = text.encode("utf-8")
        self.bytes += len(data)
        self.digest.update(data)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def file_entry(self, path: str) -> dict:
        return {"path": path, "records": self.records, "bytes": self.bytes, "sha256": self.digest.hexdigest()}


def _counted(records: Iterator, on_record: Callable[[], None]) -> Iterator:
    for record in records:
        on_record()
        yield record


def option_name(name: str, prefix: str = "--") -> str:
    """An option as the caller spells it: ``--max-tokens`` (CLI), ``max_tokens`` (query
    parameters and job options, ``prefix=""``)."""
    return f"{prefix}{name}" if prefix else name.replace("-", "_")


def gold_export_check(*, fmt: str, with_metadata: bool = False, prefix: str = "--") -> None:
    """Refuse a format, or metadata with a format that cannot hold it, before anything
    is written.

    ``prefix`` is put before the option names in messages: ``--`` for the CLI's flags,
    ``""`` for the query parameters of the export page.
    """
    if fmt not in EXPORT_FORMATS:
        raise ApplicationError(f"{prefix}format: expected one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    if with_metadata and fmt == "csv":
        raise ApplicationError(
            f"{prefix}with-metadata: not available for csv; metadata has no columns (use {prefix}format jsonl or json)"
        )
    if with_metadata and fmt in ("hf", "chat"):
        why = "the dataset card declares fixed features" if fmt == "hf" else "a conversation has no place for it"
        raise ApplicationError(
            f"{prefix}with-metadata: not available for {fmt}; {why} (use {prefix}format jsonl or json)"
        )


def gold_export_options_check(
    *,
    fmt: str,
    project: Project | None = None,
    with_metadata: bool = False,
    tokenizer: str | None = None,
    max_tokens: int | None = None,
    prompt_run: ModelRun | None = None,
    out: str | None = None,
    manifest_path: str | None = None,
    prefix: str = "--",
) -> None:
    """Every check of an export's options, before anything is written (the CLI, and an
    export job when it is created): ApplicationError naming the option.

    ``out`` and ``manifest_path`` are checked when given (a job picks its own paths).
    """
    gold_export_check(fmt=fmt, with_metadata=with_metadata, prefix=prefix)
    for name, value in (("tokenizer", tokenizer), ("max-tokens", max_tokens), ("prompt-run", prompt_run)):
        if value is not None and fmt != "chat":
            raise ApplicationError(f"{option_name(name, prefix)}: only for {prefix}format chat, not {fmt}")
    if fmt == "chat":
        from .exports_chat import chat_options_check

        chat_options_check(
            project=project, tokenizer=tokenizer, max_tokens=max_tokens, prompt_run=prompt_run, prefix=prefix
        )
    if fmt == "hf":
        if manifest_path is not None:
            raise ApplicationError(
                f"{option_name('manifest', prefix)}: not for {prefix}format hf; its folder always holds manifest.json"
            )
        if out is not None:
            from .exports_hf import hf_out_check

            hf_out_check(out, prefix=prefix)
        return
    if out is not None and out != "-":
        output_path_check(out, option=f"{prefix}out")
    if manifest_path is not None:
        if manifest_path == "-":
            raise ApplicationError(f"{prefix}manifest: give the path of a file to write, not -")
        output_path_check(manifest_path, option=f"{prefix}manifest")
        if out is not None and out != "-" and os.path.abspath(manifest_path) == os.path.abspath(out):
            raise ApplicationError(f"{prefix}manifest: {manifest_path} is the export's own --out path")


def min_agreement_check(value, *, prefix: str = "--") -> float | None:
    """``None``/blank = no filter; otherwise a number from 0 to 1 (a string is parsed)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not (0.0 <= number <= 1.0):
        raise ApplicationError(
            f"{option_name('min-agreement', prefix)}: expected a number from 0 to 1 (the share of categories on which the "
            f"document's annotators agree), got {value!r}"
        )
    return number


def gold_filter_build(
    *,
    language: str | None = None,
    split: str | None = None,
    only_adjudicated: bool = False,
    min_agreement: float | str | None = None,
    prefix: str = "--",
) -> GoldFilter:
    """Check the language, split and agreement options (None = any) and build the filter.

    ``prefix`` as in :func:`gold_export_check`. Split aliases (``validation``, ``dev``)
    are accepted as the import accepts them.
    """
    if split is not None:
        split, problem = normalise_split(split)
        if problem:
            raise ApplicationError(f"{prefix}split: {problem}")
    if language is not None and (problem := check_language(language)):
        raise ApplicationError(f"{prefix}language: {problem}")
    threshold = min_agreement_check(min_agreement, prefix=prefix)
    return GoldFilter(language=language, split=split, only_adjudicated=only_adjudicated, min_agreement=threshold)


def gold_chunks(
    *,
    project: Project,
    fmt: str = "jsonl",
    filters: GoldFilter = GoldFilter(),
    with_metadata: bool = False,
    on_record: Callable[[], None] | None = None,
    tokenizer: str | None = None,
    max_tokens: int | None = None,
    prompt_run: ModelRun | None = None,
    stats: ExportStats | None = None,
) -> Iterator[str]:
    """The export as text chunks: one per record, plus the format's opening and closing
    (single-file formats only; ``hf`` is written by :func:`gold_export_write`).

    The options are checked now (ApplicationError before anything is produced); the
    records are read lazily, chunk by chunk, as the returned iterator is consumed, so a
    caller that streams the chunks (a file, an HTTP response) uses constant memory.
    ``on_record`` is called once per record read, before its chunk is produced; records
    left out (``chat`` over ``max_tokens``) are counted in ``stats.skipped``.
    """
    gold_export_options_check(
        fmt=fmt,
        project=project,
        with_metadata=with_metadata,
        tokenizer=tokenizer,
        max_tokens=max_tokens,
        prompt_run=prompt_run,
    )
    if fmt not in SINGLE_FILE_FORMATS:
        raise ApplicationError(f"--format {fmt} is a folder, not a stream of text; use gold_export_write")
    keys = category_keys(project)
    if fmt == "chat":
        # Loads the tokenizer (if any) before a record is read: a bad folder fails first.
        from .exports_chat import chat_chunker

        chunker = chat_chunker(
            project=project,
            keys=keys,
            tokenizer=tokenizer,
            max_tokens=max_tokens,
            prompt_run=prompt_run,
            stats=stats if stats is not None else ExportStats(),
        )
    if fmt in ("jsonl", "json"):
        lines = gold_lines(project=project, filters=filters, with_metadata=with_metadata)
        if on_record is not None:
            lines = _counted(lines, on_record)
        return _jsonl_chunks(lines) if fmt == "jsonl" else _json_chunks(lines)
    if fmt == "chat" and chunker.takes_parts:
        parts = gold_chat_parts(project=project, filters=filters)
        return chunker.from_parts(_counted(parts, on_record) if on_record is not None else parts)
    records = gold_records(project=project, filters=filters, with_metadata=with_metadata)
    if on_record is not None:
        records = _counted(records, on_record)
    if fmt == "chat":
        return chunker.from_records(records)
    return _csv_chunks(records, keys)


def _jsonl_chunks(lines: Iterator[tuple]) -> Iterator[str]:
    for line in lines:
        yield line[2] + "\n"


def _json_chunks(lines: Iterator[tuple]) -> Iterator[str]:
    yield "["
    first = True
    for line in lines:
        yield ("\n" if first else ",\n") + line[2]
        first = False
    yield "]\n" if first else "\n]\n"


def _csv_chunks(records: Iterator[dict], keys: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = _CsvWriter(buffer)

    def row_text(row: list[str]) -> str:
        writer.writerow(row)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield row_text(["patient_id", "language", "split", "report", *keys])
    for record in records:
        summary = record["summary"]
        yield row_text(
            [record["patient_id"], record["language"], record["split"], record["report"], *(summary[k] for k in keys)]
        )


def text_blocks_write(chunks: Iterator[str], out: TextIO, stats: ExportStats | None = None) -> None:
    """Write ``chunks`` to ``out`` in blocks of about WRITE_BLOCK_CHARS characters,
    counting and hashing their UTF-8 bytes into ``stats``.

    A UTF-8 text file with a binary buffer (a file from atomic_text_output, stdout) gets
    the bytes directly: each block is encoded once, for the hash and the file alike.
    """
    raw = _utf8_buffer(out)
    block: list[str] = []
    size = 0
    for chunk in chunks:
        block.append(chunk)
        size += len(chunk)
        if size >= WRITE_BLOCK_CHARS:
            _block_write("".join(block), out, raw, stats)
            block, size = [], 0
    if block:
        _block_write("".join(block), out, raw, stats)
    if raw is not None:
        raw.flush()


def _utf8_buffer(out: TextIO):
    raw = getattr(out, "buffer", None)
    encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    if raw is None or encoding != "utf8":
        return None
    out.flush()  # whatever was written as text goes first
    return raw


def _block_write(text: str, out: TextIO, raw, stats: ExportStats | None) -> None:
    if raw is None:
        out.write(text)
        if stats is not None:
            stats.add_text(text)
        return
    data = text.encode("utf-8")
    raw.write(data)
    if stats is not None:
        stats.bytes += len(data)
        stats.digest.update(data)


def gold_export(
    *,
    project: Project,
    out: TextIO,
    fmt: str = "jsonl",
    filters: GoldFilter = GoldFilter(),
    with_metadata: bool = False,
    on_record: Callable[[], None] | None = None,
    tokenizer: str | None = None,
    max_tokens: int | None = None,
    prompt_run: ModelRun | None = None,
    stats: ExportStats | None = None,
) -> int:
    """Write the project's gold to ``out`` (a single-file format); returns the number of
    records written.

    ``on_record`` (e.g. a progress bar's update) is called once per record read;
    ``stats`` (optional) gets the records, skipped records, bytes and SHA-256 written.
    """
    stats = stats if stats is not None else ExportStats()
    read = 0

    def counted() -> None:
        nonlocal read
        read += 1
        if on_record is not None:
            on_record()

    chunks = gold_chunks(
        project=project,
        fmt=fmt,
        filters=filters,
        with_metadata=with_metadata,
        on_record=counted,
        tokenizer=tokenizer,
        max_tokens=max_tokens,
        prompt_run=prompt_run,
        stats=stats,
    )
    text_blocks_write(chunks, out, stats)
    stats.records = read - sum(stats.skipped.values())
    return stats.records


class ProgressCounter:
    """``on_record`` for an export that reports ``progress(done, total)`` every
    PROGRESS_EVERY records and once at the end (:meth:`finish`)."""

    def __init__(self, progress: Callable[[int, int], None] | None, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self) -> None:
        self.done += 1
        if self.progress is not None and self.done % PROGRESS_EVERY == 0:
            self.progress(self.done, self.total)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.done, max(self.total, self.done))


def export_manifest(
    *,
    project: Project,
    fmt: str,
    filters: GoldFilter,
    files: list[dict],
    skipped: dict[str, int],
    options: dict | None = None,
    exported_at: str | None = None,
    extra: dict | None = None,
) -> dict:
    """The manifest of an export: what, from where, with which options, and per file its
    records, bytes and SHA-256."""
    manifest = {
        "format": fmt,
        "project": project.slug,
        "exported_at": exported_at or timezone.now().isoformat(timespec="seconds"),
        "platform_version": elmtex_site.__version__,
        "filters": filters.as_dict(),
        "options": {k: v for k, v in (options or {}).items() if v not in (None, False)},
        "records": sum(f["records"] for f in files),
        "skipped": dict(skipped),
        "files": files,
    }
    manifest.update(extra or {})
    return manifest


def manifest_write(path: str, manifest: dict, *, option: str = "--manifest") -> None:
    with atomic_text_output(path, option=option) as fh:
        fh.write(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")


def gold_export_write(
    *,
    project: Project,
    out: str,
    fmt: str,
    filters: GoldFilter,
    with_metadata: bool = False,
    tokenizer: str | None = None,
    max_tokens: int | None = None,
    prompt_run: ModelRun | None = None,
    manifest_path: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write an export: a file (``-`` = standard output) for jsonl/json/csv/chat, a
    folder for ``hf``. The file appears whole or not at all (written next to ``out``,
    then renamed). ``manifest_path`` (single-file formats) also writes the manifest
    there; ``hf`` always writes ``manifest.json`` into its folder. ``progress(done,
    total)`` is called every few hundred records and at the end.

    Every option is checked first: ApplicationError before anything is written.
    """
    gold_export_options_check(
        fmt=fmt,
        project=project,
        with_metadata=with_metadata,
        tokenizer=tokenizer,
        max_tokens=max_tokens,
        prompt_run=prompt_run,
        out=out,
        manifest_path=manifest_path,
    )
    filters = gold_filter_resolve(project=project, filters=filters)
    if fmt == "hf":
        from .exports_hf import hf_export_write

        return hf_export_write(project=project, out=out, filters=filters, progress=progress)
    total = gold_count(project=project, filters=filters)
    counter = ProgressCounter(progress, total)
    stats = ExportStats()
    with atomic_text_output(out) as fh:
        gold_export(
            project=project,
            out=fh,
            fmt=fmt,
            filters=filters,
            with_metadata=with_metadata,
            on_record=counter,
            tokenizer=tokenizer,
            max_tokens=max_tokens,
            prompt_run=prompt_run,
            stats=stats,
        )
    counter.finish()
    return single_file_result(
        project=project,
        fmt=fmt,
        filters=filters,
        out=out,
        stats=stats,
        manifest_path=manifest_path,
        options=export_options(
            with_metadata=with_metadata, tokenizer=tokenizer, max_tokens=max_tokens, prompt_run=prompt_run
        ),
    )


def export_options(*, with_metadata=False, tokenizer=None, max_tokens=None, prompt_run=None) -> dict:
    """The options of an export as the manifest shows them (ids and paths only)."""
    return {
        "with_metadata": with_metadata,
        "tokenizer": tokenizer,
        "max_tokens": max_tokens,
        "prompt_run": None if prompt_run is None else {"id": prompt_run.pk, "name": prompt_run.name},
    }


def single_file_result(
    *,
    project: Project,
    fmt: str,
    filters: GoldFilter,
    out: str,
    stats: ExportStats,
    manifest_path: str | None = None,
    options: dict | None = None,
) -> ExportResult:
    """The result (and manifest file, if asked for) of a written single-file export."""
    files = [stats.file_entry("-" if out == "-" else os.path.basename(out))]
    manifest = export_manifest(
        project=project, fmt=fmt, filters=filters, files=files, skipped=stats.skipped, options=options
    )
    if manifest_path is not None:
        manifest_write(manifest_path, manifest)
    return ExportResult(records=stats.records, skipped=dict(stats.skipped), files=files, manifest=manifest)


class _CsvWriter:
    r"""CSV with ``\n`` line ends that quotes as little as it can and still reads back.

    With ``lineterminator="\n"`` the csv module (Python 3.11) leaves a field holding a
    bare ``\r`` unquoted, and no reader takes that back; such rows are written with every
    field quoted.
    """

    def __init__(self, out: TextIO):
        self.minimal = csv.writer(out, lineterminator="\n")
        self.quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row: list[str]) -> None:
        if any("\r" in field for field in row):
            self.quoted.writerow(row)
        else:
            self.minimal.writerow(row)
