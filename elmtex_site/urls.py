from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/", include("annotation.urls_api")),
    path("api/", include("evaluation.urls_api")),
    path("api/", include("inference.urls_api")),
    path("api/", include("annotation.urls_api_work")),
    path("api/", include("annotation.urls_api_checks")),
    path("api/", include("evaluation.urls_api_agreement")),
    path("api/", include("evaluation.urls_api_reports")),
    path("api/", include("evaluation.urls_api_reports_compare")),
    path("api/", include("annotation.urls_api_exports")),
    path("api/", include("annotation.urls_api_downloads")),
    path("", include("annotation.urls")),
    path("", include("evaluation.urls")),
    path("", include("inference.urls")),
    path("", include("annotation.urls_work")),
    path("", include("annotation.urls_checks")),
    path("", include("evaluation.urls_agreement")),
    path("", include("evaluation.urls_reports")),
    path("", include("evaluation.urls_reports_compare")),
    path("", include("annotation.urls_exports")),
]
