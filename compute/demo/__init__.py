"""Demo data of the compute app, seeded by seed_demo: compute.demo.credits and .metrics."""
