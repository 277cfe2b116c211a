"""Viewsets of the roadmap API."""
