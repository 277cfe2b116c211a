"""Models of the compute app: shared resources, the credit ledger, and collected metrics."""

from compute.models.ledger import (
    CreditAccount,
    CreditAlert,
    CreditPool,
    CreditRefund,
    CreditRequest,
    CreditSignature,
    CreditTransfer,
    LedgerEntry,
    LedgerTransaction,
    UsageRecord,
)
from compute.models.rates import ResourceRate
from compute.models.resources import Resource

__all__ = [
    "CreditAccount",
    "CreditAlert",
    "CreditPool",
    "CreditRefund",
    "CreditRequest",
    "CreditSignature",
    "CreditTransfer",
    "LedgerEntry",
    "LedgerTransaction",
    "Resource",
    "ResourceRate",
    "UsageRecord",
]
