from django.urls import path

from .apis import downloads

P = "projects/<slug:slug>/"

urlpatterns = [
    path(P + "gold/export/", downloads.GoldExportApi.as_view(), name="api-gold-export"),
    path(P + "annotations/export/", downloads.AnnotationExportApi.as_view(), name="api-annotation-export"),
]
