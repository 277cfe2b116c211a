"""Models of the compute app."""
