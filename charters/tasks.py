"""Celery tasks of the charters app."""
