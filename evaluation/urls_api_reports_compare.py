"""API route of the model comparison report (included under ``/api/``)."""

from django.urls import path

from . import apis_reports_compare

urlpatterns = [
    path(
        "projects/<slug:slug>/reports/compare/",
        apis_reports_compare.ReportCompareApi.as_view(),
        name="api-report-compare",
    ),
    path(
        "projects/<slug:slug>/reports/compare/evaluate/",
        apis_reports_compare.ReportCompareEvaluateApi.as_view(),
        name="api-report-compare-evaluate",
    ),
]
