"""Serializers of the roadmap API."""
