"""Admin of the compute app."""
