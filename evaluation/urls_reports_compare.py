"""URL stub; filled in by its owner (issue 6)."""

urlpatterns: list = []
