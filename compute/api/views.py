"""Viewsets of the compute API."""
