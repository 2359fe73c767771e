"""Model comparison page and its charts."""

from django.urls import path

from . import views_reports_compare

urlpatterns = [
    path("p/<slug:slug>/reports/compare/", views_reports_compare.report_compare, name="report-compare"),
    path(
        "p/<slug:slug>/reports/compare/evaluate/",
        views_reports_compare.report_compare_evaluate,
        name="report-compare-evaluate",
    ),
    path(
        "p/<slug:slug>/reports/compare/bars.svg",
        views_reports_compare.report_compare_bars,
        name="report-compare-bars",
    ),
    path(
        "p/<slug:slug>/reports/compare/heatmap.svg",
        views_reports_compare.report_compare_heatmap,
        name="report-compare-heatmap",
    ),
]
