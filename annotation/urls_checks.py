"""Pages of the automated checks."""

from django.urls import path

from . import views_checks

urlpatterns = [
    path("p/<slug:slug>/checks/", views_checks.checks_page, name="checks"),
    path("p/<slug:slug>/checks/run/", views_checks.checks_run_page, name="checks-run"),
]
