"""API routes of inter-annotator agreement reports (included under ``/api/``)."""

from django.urls import path

from . import apis_agreement

urlpatterns = [
    path(
        "projects/<slug:slug>/agreement/",
        apis_agreement.AgreementListCreateApi.as_view(),
        name="api-agreement-list",
    ),
    path(
        "projects/<slug:slug>/agreement/<int:pk>/",
        apis_agreement.AgreementDetailApi.as_view(),
        name="api-agreement-detail",
    ),
]
