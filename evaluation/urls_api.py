from django.urls import path

from . import apis

urlpatterns = [
    path("projects/<slug:slug>/evaluations/", apis.EvaluationListCreateApi.as_view(), name="api-evaluation-list"),
    path(
        "projects/<slug:slug>/evaluations/<int:pk>/",
        apis.EvaluationDetailApi.as_view(),
        name="api-evaluation-detail",
    ),
]
