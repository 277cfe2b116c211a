"""Credits: resources and rates, pools, accounts, the double-entry ledger, credit requests with
dual control, usage metering, transfers, expiry, refunds and alerts (DESIGN.md 2.3), one module
per noun.

This is the only write path of the credit ledger: views, the API, the admin, Celery tasks and
the ballot subject module (compute.ballots) call these functions. Each one validates, writes
the ledger (through posting.post), appends the audit event and enqueues its notifications in
one transaction. The lock order is written down in posting.

Usage comes in two ways: `usage.post_usage` for one hour, and `usage.post_usage_batch` for
many (batches, batch_sql on PostgreSQL, debits for what the batch's audit event commits to),
which the accounting imports (accounting, table_sql) and the metric attribution use.
"""
