"""Serializers of the compute API."""
