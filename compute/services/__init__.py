"""The write path of the compute app, in two parts that share the resources:

- compute.services.credits: resources and rates, pools, accounts, the double-entry ledger,
  requests, usage debits, transfers, refunds, alerts;
- compute.services.metrics: metric sources, collection, the metric store, usage attribution,
  security posture.
"""
