"""Models of the compute app: shared resources, the credit ledger, and collected metrics."""

from compute.models.resources import Resource

__all__ = ["Resource"]
