"""Forms of the roadmap app."""
