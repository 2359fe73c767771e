from django.urls import path

from . import views

urlpatterns = [
    path("", views.project_list, name="project-list"),
    path("p/<slug:slug>/", views.project_detail, name="project-detail"),
    path("p/<slug:slug>/documents/", views.document_list, name="document-list"),
    path("p/<slug:slug>/documents/<int:pk>/", views.document_detail, name="document-detail"),
]
