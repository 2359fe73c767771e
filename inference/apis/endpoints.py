"""Model endpoints (TGI servers). Endpoints are global: several projects share one server.

Who may see them: staff, and researchers or reviewers of any project (those who see runs).
Who may register one (as ``add_endpoint``): staff, and researchers of any project.
Annotators and users of no project get 403.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from elmtex_site.api import error_responses, input_validate
from elmtex_site.errors import PermissionDenied

from ..models import EndpointMode, ModelEndpoint
from ..selectors import endpoint_get
from ..selectors_pages import can_add_endpoints, can_see_endpoints
from ..services.endpoints import endpoint_add

SEE_RULE = "only staff and the researchers or reviewers of a project may see model endpoints"
ADD_RULE = "only staff and the researchers of a project may register model endpoints; ask one of them"


def endpoints_visible_check(user) -> None:
    if not can_see_endpoints(user):
        raise PermissionDenied(SEE_RULE)


class EndpointOutputSerializer(serializers.ModelSerializer):
    url = serializers.CharField(source="base_url")

    class Meta:
        model = ModelEndpoint
        ref_name = "Endpoint"
        fields = ["name", "url", "model_id", "mode", "concurrency", "info", "created_at", "updated_at"]


class EndpointListCreateApi(generics.ListAPIView):
    """Registered endpoints by name; POST registers one (as ``add_endpoint``): the server's
    ``/info`` is read, the model id taken from it unless given, and the concurrency defaults
    to 80% of its ``max_concurrent_requests``. 201 when created, 200 when the name existed
    and was updated."""

    serializer_class = EndpointOutputSerializer

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "EndpointAdd"

        name = serializers.CharField(max_length=64)
        url = serializers.CharField(max_length=500, help_text="the server's base URL, e.g. http://tgi:8080")
        model_id = serializers.CharField(required=False, allow_blank=True, max_length=300)
        mode = serializers.ChoiceField(choices=EndpointMode.values, required=False)
        concurrency = serializers.IntegerField(required=False, allow_null=True, min_value=1)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ModelEndpoint.objects.none()
        endpoints_visible_check(self.request.user)
        return ModelEndpoint.objects.order_by("name")

    @extend_schema(responses={200: EndpointOutputSerializer(many=True), **error_responses(403)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=InputSerializer,
        responses={201: EndpointOutputSerializer, 200: EndpointOutputSerializer, **error_responses(400, 403)},
    )
    def post(self, request, *args, **kwargs):
        if not can_add_endpoints(request.user):
            raise PermissionDenied(ADD_RULE)
        data = input_validate(self.InputSerializer, request.data)
        endpoint, created = endpoint_add(
            name=data["name"].strip(),
            url=data["url"].strip(),
            model_id=data.get("model_id") or None,
            mode=data.get("mode"),
            concurrency=data.get("concurrency"),
            user=request.user,
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(EndpointOutputSerializer(endpoint).data, status=code)


class EndpointDetailApi(generics.RetrieveAPIView):
    """One endpoint with the ``/info`` it answered when registered."""

    serializer_class = EndpointOutputSerializer

    def get_object(self):
        endpoints_visible_check(self.request.user)
        return endpoint_get(name=self.kwargs["name"])

    @extend_schema(responses={200: EndpointOutputSerializer, **error_responses(403, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
