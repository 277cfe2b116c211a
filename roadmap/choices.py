"""Choice values of the roadmap app."""
