"""API routes of the annotation work (issue 4): assignments, annotations, review,
adjudication, history, access log, settings. Included under ``/api/``."""

from django.urls import path

from .apis import review, work

P = "projects/<slug:slug>/"

urlpatterns = [
    path(P + "assignments/", work.AssignmentListCreateApi.as_view(), name="api-assignment-list"),
    path(P + "assignments/next/", work.AssignmentNextApi.as_view(), name="api-assignment-next"),
    path(P + "assignments/withdraw/", work.AssignmentWithdrawApi.as_view(), name="api-assignment-withdraw"),
    path(P + "assignments/counts/", work.AssignmentCountsApi.as_view(), name="api-assignment-counts"),
    path(P + "assignments/<int:pk>/", work.AssignmentDetailApi.as_view(), name="api-assignment-detail"),
    path(
        P + "assignments/<int:pk>/annotation/",
        work.AssignmentAnnotationApi.as_view(),
        name="api-assignment-annotation",
    ),
    path(P + "assignments/<int:pk>/skip/", work.AssignmentSkipApi.as_view(), name="api-assignment-skip"),
    path(P + "annotations/", work.AnnotationListApi.as_view(), name="api-annotation-list"),
    path(P + "annotations/<int:pk>/", work.AnnotationDetailApi.as_view(), name="api-annotation-detail"),
    path(P + "annotations/<int:pk>/history/", work.AnnotationHistoryApi.as_view(), name="api-annotation-history"),
    path(P + "review/", review.ReviewQueueApi.as_view(), name="api-review-queue"),
    path(P + "review/<int:pk>/", review.ReviewDetailApi.as_view(), name="api-review-detail"),
    path(P + "documents/<int:pk>/adjudicate/", review.AdjudicateApi.as_view(), name="api-adjudicate"),
    path(P + "adjudication/accept-agreed/", review.AcceptAgreedApi.as_view(), name="api-accept-agreed"),
    path(P + "documents/<int:pk>/gold/history/", review.GoldHistoryApi.as_view(), name="api-gold-history"),
    path(P + "access-log/", review.AccessLogApi.as_view(), name="api-access-log"),
    path(P + "annotation-settings/", review.AnnotationSettingsApi.as_view(), name="api-annotation-settings"),
]
