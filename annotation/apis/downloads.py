"""Streamed downloads over the REST API: gold (``export_gold``'s one-file formats) and the
submitted annotations (``export_annotations``), in constant memory.

Gold: researchers, reviewers and staff (the project page's export right); annotators are
refused, since they never see gold. Annotations of every annotator: researchers and staff.
Folder formats (``hf``) and big exports run as export jobs (``POST .../exports/``).
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.views import APIView

from elmtex_site.api import QueryFormatNegotiation, error_responses
from elmtex_site.errors import ApplicationError

from ..pipeline.records import check_language
from ..services.annotation_files import annotations_export_lines
from ..views_import_export import DOWNLOAD_FORMATS, gold_download_response, stream_blocks
from .common import ProjectScopedMixin


def _text(name: str, help_text: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, description=help_text)


class GoldExportApi(ProjectScopedMixin, APIView):
    project_need = "documents"
    content_negotiation_class = QueryFormatNegotiation

    @extend_schema(
        operation_id="gold_export",
        summary="Download the project's gold (streamed)",
        description=(
            "The bytes `export_gold` writes for the same options. Formats: "
            f"{', '.join(DOWNLOAD_FORMATS)} (default jsonl); `hf` runs as an export job."
        ),
        parameters=[
            _text("format", f"one of {', '.join(DOWNLOAD_FORMATS)} (default jsonl)"),
            _text("language", "only this language"),
            _text("split", "only this split (train, val, test, none)"),
            _text("only_adjudicated", "1 = only adjudicated gold"),
            _text("min_agreement", "only documents whose annotators agree on at least this share of fields (0-1)"),
            _text("prompt_run", "chat: take the system prompt from this run (id or name)"),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(400, 403, 404),
        },
    )
    def get(self, request, slug: str):
        return gold_download_response(project=self.get_project(), params=request.query_params)


class AnnotationExportApi(ProjectScopedMixin, APIView):
    project_need = "manage"
    content_negotiation_class = QueryFormatNegotiation

    @extend_schema(
        operation_id="annotations_export",
        summary="Download the submitted annotations as JSON lines (streamed)",
        description="The shape `import_annotations` reads, as `export_annotations` writes it.",
        parameters=[_text("language", "only documents in this language"), _text("annotator", "only this annotator")],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(400, 403, 404),
        },
    )
    def get(self, request, slug: str):
        project = self.get_project()
        language = (request.query_params.get("language") or "").strip() or None
        annotator = (request.query_params.get("annotator") or "").strip() or None
        if language is not None and (problem := check_language(language)):
            raise ApplicationError(f"language: {problem}")
        lines = annotations_export_lines(project=project, language=language, annotator=annotator)
        response = StreamingHttpResponse(stream_blocks(lines), content_type="application/x-ndjson; charset=utf-8")
        name = "-".join([project.slug, "annotations", *(p for p in (language, annotator) if p)]) + ".jsonl"
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
        add_never_cache_headers(response)
        return response
