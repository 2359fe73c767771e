"""Shared REST API pieces: the one error shape, input validation, and health.

Every refused request answers the ApplicationError JSON (``detail``, ``errors``,
``error_count``), including invalid input, so a client reads one error shape.
"""

from __future__ import annotations

from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .errors import ApplicationError, Problem


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


def input_validate(serializer_class: type[serializers.Serializer], data) -> dict:
    """Validated input, or an ApplicationError naming each bad field (answered as 400)."""
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return serializer.validated_data
    problems = [Problem(message, field=field) for field, message in _flatten_errors(serializer.errors)]
    first = problems[0].format()[len("error: ") :]
    summary = first if len(problems) == 1 else f"{len(problems)} problems; the first: {first}"
    raise ApplicationError(f"invalid input: {summary}", problems=problems)


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
    return {code: OpenApiResponse(ErrorOutputSerializer, description=text[code]) for code in codes}


class HealthApi(APIView):
    """Liveness and database check; the only API endpoint open without login."""

    permission_classes = [AllowAny]
    authentication_classes = []

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Health"

        status = serializers.CharField()

    @extend_schema(responses=OutputSerializer, auth=[])
    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Response({"status": "ok"})
