"""Celery tasks (filled in by the module owner)."""
