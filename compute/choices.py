"""Choice values of the compute app."""
