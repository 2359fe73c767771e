from django.urls import path

from . import views, views_import_export

urlpatterns = [
    path("", views.project_list, name="project-list"),
    path("p/<slug:slug>/", views.project_detail, name="project-detail"),
    path("p/<slug:slug>/documents/", views.document_list, name="document-list"),
    path("p/<slug:slug>/documents/<int:pk>/", views.document_detail, name="document-detail"),
    path("p/<slug:slug>/import/", views_import_export.dataset_import_page, name="dataset-import"),
    path("p/<slug:slug>/export/", views_import_export.gold_export_download, name="gold-export"),
]
