"""The web counterparts of ``import_dataset`` and ``export_gold`` (CLI.md).

Both call the same services as the commands and the API, so a file the CLI refuses is
refused here with the same problems, and a download holds the bytes ``export_gold``
writes for the same filters. The single-file formats (jsonl, json, csv, chat) stream
here; ``hf`` is a folder, made by an export job on the exports page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from elmtex_site.errors import MAX_LISTED_PROBLEMS, ApplicationError, NotFound, PermissionDenied

from .models import Split
from .pipeline.records import CSV_COLUMNS, check_language
from .selectors import can_manage_project, can_view_documents, project_for_user
from .services.exports import (
    EXPORT_FORMATS,
    gold_chunks,
    gold_export_check,
    gold_export_options_check,
    gold_filter_build,
)
from .services.imports import dataset_import_upload
from .views import page_errors

SPLIT_CHOICES = [(Split.NONE, "none"), (Split.TRAIN, "train"), (Split.VAL, "val"), (Split.TEST, "test")]
EXPORT_CONTENT_TYPES = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "chat": "application/x-ndjson; charset=utf-8",
}
# What this page streams; ``hf`` (a folder) is an export job (the exports page).
DOWNLOAD_FORMATS = ("jsonl", "json", "csv", "chat")
FILE_EXTENSIONS = {"chat": "jsonl"}
# Records are small; joining them into blocks of about this many characters saves the
# server one write per record while memory stays constant.
STREAM_BLOCK_CHARS = 64 * 1024
TRUE_VALUES = ("1", "true", "on", "yes")
FALSE_VALUES = ("", "0", "false", "off", "no")


class DatasetImportForm(forms.Form):
    # An empty file reaches the service, which refuses it as the CLI does ("no records").
    file = forms.FileField(
        allow_empty_file=True,
        label="File",
        help_text="A JSON array (.json), JSON lines (.jsonl / .ndjson) or CSV (.csv) file, UTF-8.",
    )
    format = forms.ChoiceField(
        choices=[
            ("auto", "auto (by file name, then content)"),
            ("json", "JSON array"),
            ("jsonl", "JSON lines"),
            ("csv", "CSV"),
        ],
        initial="auto",
        label="Format",
    )
    language = forms.CharField(
        initial="en", max_length=20, label="Language", help_text="For records without a language field."
    )
    split = forms.ChoiceField(
        choices=SPLIT_CHOICES, initial=Split.NONE, label="Split", help_text="For records without a split field."
    )
    drop_unknown = forms.BooleanField(
        required=False,
        label="Drop unknown summary keys",
        help_text="Summary keys (CSV columns) that are not categories of the project are dropped and counted, "
        "instead of refusing the file.",
    )
    update = forms.BooleanField(
        required=False,
        label="Update changed documents (adjudicated gold is kept)",
        help_text="Documents already in the project whose report or summary changed are replaced, "
        "instead of refusing the file.",
    )

    def clean_language(self) -> str:
        language = self.cleaned_data["language"].strip()
        problem = check_language(language)
        if problem:
            raise forms.ValidationError(f"{problem}; records that carry a language field keep theirs")
        return language


def _import_page(request, *, project, role, form, refusal: ApplicationError | None = None, status: int = 200):
    context = {
        "project": project,
        "role": role,
        "form": form,
        "category_keys": list(project.categories.order_by("order").values_list("key", flat=True)),
        "csv_columns": CSV_COLUMNS,
    }
    if refusal is not None:
        shown = refusal.problems[:MAX_LISTED_PROBLEMS]
        context["refusal"] = {
            "problems": shown,
            "total": refusal.total,
            "more": max(refusal.total - len(shown), 0),
            "file": next((p.file for p in shown if p.file), None),
            "names_flags": any("--update" in p.message or "--drop-unknown" in p.message for p in shown),
        }
    return render(request, "annotation/dataset_import.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def dataset_import_page(request, slug: str):
    """GET: the import form. POST: import the upload, all or nothing; on success back to
    the project page with the summary line, on refusal the form again (400) with the
    problems."""
    project, role = project_for_user(user=request.user, slug=slug, need="manage")
    if request.method != "POST":
        return _import_page(request, project=project, role=role, form=DatasetImportForm())
    form = DatasetImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, project=project, role=role, form=form, status=400)
    data = form.cleaned_data
    upload = data["file"]
    try:
        result = dataset_import_upload(
            project=project,
            upload=upload,
            fmt=data["format"],
            language=data["language"],
            split=data["split"],
            drop_unknown=data["drop_unknown"],
            update=data["update"],
        )
    except ApplicationError as exc:
        if exc.status != 400:
            raise  # the project went away meanwhile: an error page, not a list of problems
        return _import_page(request, project=project, role=role, form=form, refusal=exc, status=400)
    messages.success(request, f"{upload.name}: {result.summary_line()}")
    return redirect("project-detail", project.slug)


def _flag(params, name: str) -> bool:
    value = params.get(name, "").strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ApplicationError(
        f"{name}: expected one of {', '.join(TRUE_VALUES)} to turn it on, or nothing to leave it off; "
        f"got {params.get(name)!r}"
    )


def stream_blocks(chunks: Iterable[str], size: int = STREAM_BLOCK_CHARS) -> Iterator[str]:
    """Join consecutive chunks into blocks of at least ``size`` characters (the last may be shorter)."""
    block: list[str] = []
    length = 0
    for chunk in chunks:
        block.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(block)
            block, length = [], 0
    if block:
        yield "".join(block)


def export_filename(*, slug: str, fmt: str, language: str | None, split: str | None) -> str:
    kind = "gold-chat" if fmt == "chat" else "gold"
    return "-".join([slug, kind, *(part for part in (language, split) if part)]) + f".{FILE_EXTENSIONS.get(fmt, fmt)}"


def exports_page_path(slug: str) -> str:
    """The exports page (export jobs), by name when its routes are installed."""
    try:
        return reverse("export-list", args=[slug])
    except NoReverseMatch:
        return f"/p/{slug}/exports/"


def _prompt_run(project, ref: str):
    from inference.selectors import run_get  # annotation's models never import inference; views may, lazily

    try:
        return run_get(ref=ref, project=project)
    except NotFound as exc:
        raise ApplicationError(f"prompt_run: {exc.message}") from None


@login_required
@require_GET
@page_errors
def gold_export_download(request, slug: str):
    """The project's gold as a download, streamed record by record (constant memory).

    Query parameters as ``export_gold``'s options: ``format`` (jsonl, json, csv, chat;
    default jsonl), ``language``, ``split``, ``only_adjudicated``, ``min_agreement`` and,
    for chat, ``prompt_run``; empty = any. ``format=hf`` (a folder) sends researchers to
    the exports page, where it runs as an export job. Tokenizer options are not offered
    here: they name folders on the server (``export_gold`` or an export job).
    """
    project, role = project_for_user(user=request.user, slug=slug, need="member")
    if not can_view_documents(role):
        raise PermissionDenied(
            "annotators do not see gold, so they cannot export it; ask a researcher or reviewer of the project"
        )
    fmt = request.GET.get("format", "").strip() or "jsonl"
    if fmt in EXPORT_FORMATS and fmt not in DOWNLOAD_FORMATS:
        path = exports_page_path(project.slug)
        if can_manage_project(role):
            messages.info(request, f"The {fmt} format is a folder, not one download: start it here as an export job.")
            return redirect(f"{path}?format={fmt}")
        raise ApplicationError(
            f"format: {fmt} is a folder, not one download; researchers of the project make it as an export job "
            f"on the exports page ({path})"
        )
    return gold_download_response(project=project, params=request.GET)


def gold_download_response(*, project, params) -> StreamingHttpResponse:
    """The streamed gold download for query ``params`` (the web page and the API share it).

    Formats that are one file only (``DOWNLOAD_FORMATS``); ApplicationError names a bad
    parameter before anything is sent.
    """
    fmt = params.get("format", "").strip() or "jsonl"
    gold_export_check(fmt=fmt, prefix="")
    if fmt not in DOWNLOAD_FORMATS:
        raise ApplicationError(
            f"format: {fmt} is a folder, not one download; make it as an export job "
            f"(POST /api/projects/{project.slug}/exports/ or the exports page)"
        )
    filters = gold_filter_build(
        language=params.get("language", "").strip() or None,
        split=params.get("split", "").strip() or None,
        only_adjudicated=_flag(params, "only_adjudicated"),
        min_agreement=params.get("min_agreement"),
        prefix="",
    )
    prompt_run = None
    if ref := params.get("prompt_run", "").strip():
        if fmt != "chat":
            raise ApplicationError(f"prompt_run: only for format chat, not {fmt}")
        prompt_run = _prompt_run(project, ref)
    gold_export_options_check(fmt=fmt, project=project, prompt_run=prompt_run, prefix="")
    chunks = gold_chunks(project=project, fmt=fmt, filters=filters, prompt_run=prompt_run)
    response = StreamingHttpResponse(
        stream_blocks(chunks), content_type=EXPORT_CONTENT_TYPES.get(fmt, "application/octet-stream")
    )
    filename = export_filename(slug=project.slug, fmt=fmt, language=filters.language, split=filters.split)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    add_never_cache_headers(response)  # gold is not for shared caches
    return response
