"""The write path of the roadmap app."""
