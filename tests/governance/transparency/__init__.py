"""Tests of the verifiable record: the Merkle log, checkpoints, witnesses and receipts."""
