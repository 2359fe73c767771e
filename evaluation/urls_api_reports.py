"""API routes of the reports (included under ``/api/``). Explicit paths only: the model
comparison lives under ``reports/compare/`` (its own file)."""

from django.urls import path

from . import apis_reports

urlpatterns = [
    path("projects/<slug:slug>/reports/", apis_reports.ReportListApi.as_view(), name="api-report-list"),
    path("projects/<slug:slug>/reports/errors/", apis_reports.ReportErrorsApi.as_view(), name="api-report-errors"),
    path(
        "projects/<slug:slug>/reports/agreement/",
        apis_reports.ReportAgreementApi.as_view(),
        name="api-report-agreement",
    ),
    path("projects/<slug:slug>/reports/dataset/", apis_reports.ReportDatasetApi.as_view(), name="api-report-dataset"),
]
