"""Celery tasks of the governance app: thin wrappers that take ids and call services."""
