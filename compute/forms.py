"""Forms of the compute app."""
