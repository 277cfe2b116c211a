"""Admin of the charters app."""
