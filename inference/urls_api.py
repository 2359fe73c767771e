from django.urls import path

from . import apis

urlpatterns = [
    path("endpoints/", apis.EndpointListCreateApi.as_view(), name="api-endpoint-list"),
    path("endpoints/<slug:name>/", apis.EndpointDetailApi.as_view(), name="api-endpoint-detail"),
    path("projects/<slug:slug>/runs/", apis.RunListCreateApi.as_view(), name="api-run-list"),
    path("projects/<slug:slug>/runs/<int:pk>/", apis.RunDetailApi.as_view(), name="api-run-detail"),
    path("projects/<slug:slug>/runs/<int:pk>/progress/", apis.RunProgressApi.as_view(), name="api-run-progress"),
    path("projects/<slug:slug>/runs/<int:pk>/cancel/", apis.RunCancelApi.as_view(), name="api-run-cancel"),
    path("projects/<slug:slug>/runs/<int:pk>/resume/", apis.RunResumeApi.as_view(), name="api-run-resume"),
    path("projects/<slug:slug>/runs/<int:pk>/candidates/", apis.CandidateListApi.as_view(), name="api-run-candidates"),
]
