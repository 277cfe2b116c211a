"""Forms of the compute pages: compute.forms.credits and compute.forms.metrics."""
