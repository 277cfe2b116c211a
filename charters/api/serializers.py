"""Serializers of the charters API."""
