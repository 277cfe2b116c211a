"""The write path of the charters app."""
