"""Viewsets of the charters API."""
