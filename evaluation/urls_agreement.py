"""URL routes (filled in by the module owner)."""

urlpatterns = []
