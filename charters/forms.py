"""Forms of the charters app."""
