from django.urls import path

from . import views

urlpatterns = [
    path("endpoints/", views.endpoint_list, name="endpoint-list"),
    path("p/<slug:slug>/runs/", views.run_list, name="run-list"),
    path("p/<slug:slug>/runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("p/<slug:slug>/runs/<int:pk>/cancel/", views.run_cancel_page, name="run-cancel"),
    path("p/<slug:slug>/runs/<int:pk>/resume/", views.run_resume_page, name="run-resume"),
]
