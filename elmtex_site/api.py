"""Shared REST API pieces: the one error shape, input validation, and health.

Every refused request answers the ApplicationError JSON (``detail``, ``errors``,
``error_count``), including invalid input and DRF's own refusals (``api_errors``), so a
client reads one error shape.
"""

from __future__ import annotations

import logging

from django.db import Error as DatabaseError
from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .errors import ApplicationError, Problem

logger = logging.getLogger(__name__)


def _flatten_errors(errors, prefix: str = "") -> list[tuple[str | None, str]]:
    """DRF's nested ``serializer.errors`` as (dotted field path, message) pairs."""
    if isinstance(errors, dict):
        pairs = []
        for key, value in errors.items():
            path = prefix if key == "non_field_errors" else (f"{prefix}.{key}" if prefix else str(key))
            pairs.extend(_flatten_errors(value, path))
        return pairs
    if isinstance(errors, list):
        pairs = []
        for i, value in enumerate(errors):
            if isinstance(value, dict | list):
                pairs.extend(_flatten_errors(value, f"{prefix}[{i}]"))
            else:
                pairs.append((prefix or None, str(value)))
        return pairs
    return [(prefix or None, str(errors))]


def validation_error(errors) -> ApplicationError:
    """DRF validation errors (``serializer.errors``, a ValidationError's detail) as an
    ApplicationError naming each bad field (answered as 400)."""
    problems = [Problem(message, field=field) for field, message in _flatten_errors(errors)]
    if not problems:
        problems = [Problem("invalid input")]
    first = problems[0].format()[len("error: ") :]
    summary = first if len(problems) == 1 else f"{len(problems)} problems; the first: {first}"
    return ApplicationError(f"invalid input: {summary}", problems=problems)


def input_validate(serializer_class: type[serializers.Serializer], data) -> dict:
    """Validated input, or an ApplicationError naming each bad field (answered as 400)."""
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return serializer.validated_data
    raise validation_error(serializer.errors)


class ErrorOutputSerializer(serializers.Serializer):
    """The error body of every refused request (``elmtex_site.errors.ApplicationError``)."""

    class ProblemSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Problem"

        file = serializers.CharField(allow_null=True)
        record = serializers.IntegerField(allow_null=True, help_text="1-based record number")
        line = serializers.IntegerField(allow_null=True, help_text="1-based physical line")
        field = serializers.CharField(allow_null=True, help_text="dotted field path, e.g. summary.diagnosis")
        message = serializers.CharField()
        text = serializers.CharField(help_text="the problem as the CLI prints it, without 'error: '")

    class Meta:
        ref_name = "Error"

    detail = serializers.CharField()
    errors = ProblemSerializer(many=True, required=False)
    error_count = serializers.IntegerField(required=False)


def error_responses(*codes: int) -> dict:
    text = {
        400: "invalid input or refused operation; nothing was written",
        403: "not allowed for your role in this project",
        404: "no such project (or you are not a member of it), or no such object",
    }
    # 401, 405, 415 and 429 answer the same shape; every operation may give them, so they
    # are not listed per operation.
    return {code: OpenApiResponse(ErrorOutputSerializer, description=text[code]) for code in codes}


class HealthApi(APIView):
    """Liveness and database check; the only API endpoint open without login.

    200 ``{"status": "ok"}``; 503 ``{"status": "unavailable", "detail": ...}`` when the
    database does not answer (load balancers and compose healthchecks read the status).
    """

    permission_classes = [AllowAny]
    authentication_classes = []

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Health"

        status = serializers.ChoiceField(choices=["ok", "unavailable"])
        detail = serializers.CharField(required=False, help_text="what is wrong, when status is unavailable")

    @extend_schema(
        responses={
            200: OutputSerializer,
            503: OpenApiResponse(OutputSerializer, description="the database does not answer"),
        },
        auth=[],
    )
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            # The cause goes to the log, not to an anonymous caller.
            logger.exception("health check: the database does not answer")
            detail = "the database does not answer; check that it runs and that DATABASE_URL points at it"
            return Response({"status": "unavailable", "detail": detail}, status=503)
        return Response({"status": "ok"})


class QueryFormatNegotiation(DefaultContentNegotiation):
    """JSON always: a ``?format=`` query parameter names a download (csv, md, tex, jsonl,
    ...) that the view writes itself, not a DRF renderer (DRF would answer 404 for one it
    does not know)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type
