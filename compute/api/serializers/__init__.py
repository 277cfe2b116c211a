"""Serializers of the compute API: compute.api.serializers.credits and .metrics."""
