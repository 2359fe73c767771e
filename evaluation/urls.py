from django.urls import path

from . import views

urlpatterns = [
    path("p/<slug:slug>/evaluations/", views.evaluation_list, name="evaluation-list"),
    path("p/<slug:slug>/evaluations/<int:pk>/", views.evaluation_detail, name="evaluation-detail"),
]
