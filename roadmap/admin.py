"""Admin of the roadmap app."""
