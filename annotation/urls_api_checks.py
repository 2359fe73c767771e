"""API routes of the automated checks (``/api/projects/<slug>/...``)."""

from django.urls import path

from .apis.checks import AnnotationChecksApi, ChecksApi, ChecksRunApi, DocumentChecksApi

urlpatterns = [
    path("projects/<slug:slug>/checks/", ChecksApi.as_view(), name="api-checks"),
    path("projects/<slug:slug>/checks/run/", ChecksRunApi.as_view(), name="api-checks-run"),
    path("projects/<slug:slug>/documents/<int:pk>/checks/", DocumentChecksApi.as_view(), name="api-document-checks"),
    path(
        "projects/<slug:slug>/annotations/<int:pk>/checks/",
        AnnotationChecksApi.as_view(),
        name="api-annotation-checks",
    ),
]
