"""Pages of gold export jobs and split assignment (researchers and staff)."""

from django.urls import path

from . import views_exports

urlpatterns = [
    path("p/<slug:slug>/exports/", views_exports.export_list, name="export-list"),
    path("p/<slug:slug>/exports/<int:pk>/", views_exports.export_detail, name="export-detail"),
    path("p/<slug:slug>/exports/<int:pk>/download/", views_exports.export_download, name="export-download"),
    path("p/<slug:slug>/splits/", views_exports.splits_page, name="splits-assign"),
]
