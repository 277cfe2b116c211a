"""Models of the compute app: shared resources, the credit ledger, and collected metrics."""

from compute.models.accounting import AccountingMapping, UsageImport
from compute.models.ledger import (
    AccountDay,
    CreditAccount,
    CreditAlert,
    CreditPool,
    CreditRefund,
    CreditRefundApproval,
    CreditRequest,
    CreditSignature,
    CreditTransfer,
    LedgerEntry,
    LedgerTransaction,
    UsageBatch,
    UsageRecord,
)
from compute.models.metrics import (
    DailyRollup,
    HourlyRollup,
    Metric,
    MetricSource,
    Sample,
    SeriesVersion,
    UsageAttribution,
)
from compute.models.rates import ResourceRate
from compute.models.resources import Resource
from compute.models.reversals import LedgerReversal, LedgerReversalApproval
from compute.models.security import ReportDirectory, SecurityScan
from compute.models.usage import UsageMonth

__all__ = [
    "AccountDay",
    "AccountingMapping",
    "UsageImport",
    "CreditAccount",
    "CreditAlert",
    "CreditPool",
    "CreditRefund",
    "CreditRefundApproval",
    "CreditRequest",
    "CreditSignature",
    "CreditTransfer",
    "LedgerEntry",
    "LedgerReversal",
    "LedgerReversalApproval",
    "LedgerTransaction",
    "Resource",
    "ResourceRate",
    "UsageBatch",
    "UsageRecord",
    "DailyRollup",
    "HourlyRollup",
    "SeriesVersion",
    "Metric",
    "MetricSource",
    "ReportDirectory",
    "Resource",
    "Sample",
    "SecurityScan",
    "UsageAttribution",
    "UsageMonth",
]
