"""Celery tasks of the roadmap app."""
