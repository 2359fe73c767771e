from django.urls import path

from . import apis

urlpatterns = [
    path("health/", apis.HealthApi.as_view(), name="api-health"),
    path("projects/", apis.ProjectListCreateApi.as_view(), name="api-project-list"),
    path("projects/<slug:slug>/", apis.ProjectDetailApi.as_view(), name="api-project-detail"),
    path("projects/<slug:slug>/categories/", apis.CategoryListApi.as_view(), name="api-category-list"),
    path("projects/<slug:slug>/members/", apis.MemberListCreateApi.as_view(), name="api-member-list"),
    path("projects/<slug:slug>/members/<str:username>/", apis.MemberDeleteApi.as_view(), name="api-member-delete"),
    path("projects/<slug:slug>/documents/", apis.DocumentListApi.as_view(), name="api-document-list"),
    path("projects/<slug:slug>/documents/<int:pk>/", apis.DocumentDetailApi.as_view(), name="api-document-detail"),
    path("projects/<slug:slug>/documents/<int:pk>/gold/", apis.GoldDetailApi.as_view(), name="api-document-gold"),
    path("projects/<slug:slug>/imports/", apis.ImportApi.as_view(), name="api-import"),
]
