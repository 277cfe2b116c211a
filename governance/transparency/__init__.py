"""The verifiable record (DESIGN §2.6): an RFC 9162 Merkle log over the audit events, C2SP
signed checkpoints, one witness per sector, and receipts anyone can check offline."""
