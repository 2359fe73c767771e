"""API routes of gold export jobs and split assignment (``/api/projects/<slug>/...``)."""

from django.urls import path

from .apis.exports import ExportDetailApi, ExportDownloadApi, ExportListCreateApi, ExportRetryApi, SplitsAssignApi

urlpatterns = [
    path("projects/<slug:slug>/exports/", ExportListCreateApi.as_view(), name="api-export-list"),
    path("projects/<slug:slug>/exports/<int:pk>/", ExportDetailApi.as_view(), name="api-export-detail"),
    path("projects/<slug:slug>/exports/<int:pk>/download/", ExportDownloadApi.as_view(), name="api-export-download"),
    path("projects/<slug:slug>/exports/<int:pk>/retry/", ExportRetryApi.as_view(), name="api-export-retry"),
    path("projects/<slug:slug>/splits/", SplitsAssignApi.as_view(), name="api-splits-assign"),
]
