"""Viewsets of the compute API: compute.api.views.credits and .metrics."""
