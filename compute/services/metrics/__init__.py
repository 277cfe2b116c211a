"""Metrics: sources, collection passes and pushed batches, the metric store, usage attribution
to the credit ledger, and security scan reports, one module per noun."""
