"""The write path of the compute app, in two parts that share the resources:

- compute.services.ledger: pools, accounts, the double-entry ledger, requests, usage debits;
- compute.services.metrics: metric sources, collection, the metric store, security posture.
"""
