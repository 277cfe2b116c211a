"""Choice values of the charters app."""
