"""Credits: pools, accounts, the double-entry ledger, credit requests and usage metering."""
