"""The TGB portal's project package and the governance app (the body itself)."""

# Load the Celery app whenever Django starts, so @shared_task binds to it.
from governance.celery import app as celery_app

__all__ = ("celery_app",)
