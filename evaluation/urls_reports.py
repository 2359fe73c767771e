"""Report pages (issue 6): the hub, error analysis, agreement and dataset overview.
Explicit paths only: the model comparison lives under ``reports/compare/`` (its own file)."""

from django.urls import path

from . import views_reports

urlpatterns = [
    path("p/<slug:slug>/reports/", views_reports.report_hub_page, name="report-hub"),
    path("p/<slug:slug>/reports/errors/", views_reports.report_errors_page, name="report-errors"),
    path("p/<slug:slug>/reports/agreement/", views_reports.report_agreement_page, name="report-agreement"),
    path("p/<slug:slug>/reports/dataset/", views_reports.report_dataset_page, name="report-dataset"),
]
