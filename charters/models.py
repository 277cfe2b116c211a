"""Models of the charters app."""
