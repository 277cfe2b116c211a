"""Benchmarks of the TGB portal (`make bench`, or `make bench B=vote`)."""
