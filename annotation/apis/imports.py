"""Dataset import through the API: the same service and errors as ``import_dataset``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from elmtex_site.api import error_responses, input_validate

from ..pipeline.readers import FORMATS
from ..services.imports import dataset_import_upload
from .common import ProjectScopedMixin


class ImportApi(ProjectScopedMixin, APIView):
    """``import_dataset`` over HTTP: all or nothing; a refused file answers 400 listing up
    to 20 problems (record, line, field) and writes nothing. Researchers and staff."""

    project_need = "manage"
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ImportUpload"

        # An empty file reaches the service, which refuses it as the CLI does ("no records").
        file = serializers.FileField(allow_empty_file=True, help_text="JSON array, JSON lines or CSV, UTF-8")
        format = serializers.ChoiceField(choices=("auto", *FORMATS), default="auto")
        language = serializers.CharField(default="en", help_text="language of records without one")
        split = serializers.CharField(default="none", help_text="split of records without one")
        drop_unknown = serializers.BooleanField(default=False, help_text="drop summary keys not in the schema")
        update = serializers.BooleanField(
            default=False, help_text="replace documents whose content changed (adjudicated gold is kept)"
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ImportResult"

        new = serializers.IntegerField()
        unchanged = serializers.IntegerField()
        replaced = serializers.IntegerField()
        set_to_na = serializers.IntegerField()
        dropped = serializers.IntegerField()
        summary = serializers.CharField(help_text="the line import_dataset prints")

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={201: OutputSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request, slug: str):
        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        result = dataset_import_upload(
            project=project,
            upload=data["file"],
            fmt=data["format"],
            language=data["language"],
            split=data["split"],
            drop_unknown=data["drop_unknown"],
            update=data["update"],
        )
        return Response(self.OutputSerializer(result.as_dict()).data, status=status.HTTP_201_CREATED)
