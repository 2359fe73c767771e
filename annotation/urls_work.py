"""Pages of the annotation work (issue 4): annotator queue and form, review and
adjudication, gold history, assignment and members."""

from django.urls import path

from . import views_manage, views_review, views_work

urlpatterns = [
    path("p/<slug:slug>/work/", views_work.work_queue, name="work-queue"),
    path("p/<slug:slug>/work/next/", views_work.work_next, name="work-next"),
    path("p/<slug:slug>/work/<int:assignment_id>/", views_work.work_form, name="work-form"),
    path("p/<slug:slug>/review/", views_review.review_list, name="review-list"),
    path("p/<slug:slug>/review/accept-agreed/", views_review.review_accept_agreed, name="review-accept-agreed"),
    path("p/<slug:slug>/review/<int:document_id>/", views_review.review_document, name="review-document"),
    path("p/<slug:slug>/documents/<int:pk>/history/", views_review.gold_history_page, name="gold-history"),
    path("p/<slug:slug>/assign/", views_manage.assign_page, name="work-assign"),
    path("p/<slug:slug>/members/", views_manage.members_page, name="work-members"),
]
