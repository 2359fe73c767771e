"""Pages of inter-annotator agreement reports."""

from django.urls import path

from . import views_agreement

urlpatterns = [
    path("p/<slug:slug>/agreement/", views_agreement.agreement_page, name="agreement-list"),
    path("p/<slug:slug>/agreement/<int:pk>/", views_agreement.agreement_detail_page, name="agreement-detail"),
]
