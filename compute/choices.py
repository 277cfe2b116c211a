"""Choice values of the compute app (DESIGN.md 2.3 and 2.4)."""

from django.db import models


class ResourceKind(models.TextChoices):
    GPU_CLUSTER = "gpu_cluster", "GPU cluster"
    CPU_POOL = "cpu_pool", "CPU pool"
    STORAGE = "storage", "Storage"


class ResourceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    MAINTENANCE = "maintenance", "Maintenance"
    RETIRED = "retired", "Retired"


# --- Metrics and security posture (DESIGN.md 2.4) --------------------------------------------


class MetricSourceKind(models.TextChoices):
    PROMETHEUS = "prometheus", "Prometheus"
    PUSH = "push", "Push API (agents)"
    LOCAL = "local", "Local host"


class Resolution(models.TextChoices):
    """Where a series is read from: raw samples, or the hourly or daily rollups."""

    RAW = "raw", "Raw samples"
    HOUR = "hour", "Hourly rollup"
    DAY = "day", "Daily rollup"


class ScanKind(models.TextChoices):
    OPENSCAP = "openscap", "OpenSCAP XCCDF results"
    LYNIS = "lynis", "Lynis report"
    TRIVY = "trivy", "Trivy JSON"
    GRYPE = "grype", "Grype JSON"
    ATTESTATION = "attestation", "TEE attestation"


class ScanOrigin(models.TextChoices):
    UPLOAD = "upload", "Uploaded on the portal"
    API = "api", "Posted to the API"
    WATCHED = "watched", "Found in a watched directory"


class AttestationStatus(models.TextChoices):
    VERIFIED = "verified", "Verified"
    FAILED = "failed", "Failed"


# The unit a resource's capacity and usage are counted in, per kind.
class MappingKind(models.TextChoices):
    """What an accounting system's name is: an account (→ a charter), a partition or a cluster
    (→ a resource)."""

    ACCOUNT = "account", "Account → charter"
    PARTITION = "partition", "Partition → resource"
    CLUSTER = "cluster", "Cluster → resource"


UNIT_OF_KIND = {
    ResourceKind.GPU_CLUSTER: "GPU-hour",
    ResourceKind.CPU_POOL: "core-hour",
    ResourceKind.STORAGE: "TB-hour",
}


# --- Credits (DESIGN.md 2.3) -----------------------------------------------------------------


class AccountKind(models.TextChoices):
    """What a ledger account holds. Charters and pools have one each; the two system accounts
    are where credits come from (funding) and where consumed credits go (usage)."""

    CHARTER = "charter", "Charter account"
    POOL = "pool", "Pool"
    FUNDING = "funding", "Funding (outside the ledger)"
    USAGE = "usage", "Consumed (usage)"


class TransactionKind(models.TextChoices):
    FUNDING = "funding", "Pool funding"
    ALLOCATION = "allocation", "Allocation"
    USAGE = "usage", "Usage debit"
    TRANSFER = "transfer", "Transfer"
    EXPIRY = "expiry", "Expiry"
    REVERSAL = "reversal", "Reversal"


class RequestStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    PARTIALLY_APPROVED = "partially_approved", "Partially approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


# The legal moves of a credit request. A request can be withdrawn until it is decided.
REQUEST_TRANSITIONS: dict[str, list[str]] = {
    RequestStatus.DRAFT: [RequestStatus.SUBMITTED, RequestStatus.WITHDRAWN],
    RequestStatus.SUBMITTED: [
        RequestStatus.APPROVED,
        RequestStatus.PARTIALLY_APPROVED,
        RequestStatus.REJECTED,
        RequestStatus.WITHDRAWN,
    ],
    RequestStatus.APPROVED: [],
    RequestStatus.PARTIALLY_APPROVED: [],
    RequestStatus.REJECTED: [],
    RequestStatus.WITHDRAWN: [],
}
AWARDED_STATUSES = (RequestStatus.APPROVED, RequestStatus.PARTIALLY_APPROVED)


class DecisionReason(models.TextChoices):
    """Why a request was awarded less than it asked for, or nothing."""

    POOL_LIMITED = "pool_limited", "The pool could not fund all of it"
    SCOPE_REDUCED = "scope_reduced", "Scope or duration reduced"
    CAPACITY = "capacity", "Resource capacity"
    INSUFFICIENT_JUSTIFICATION = "insufficient_justification", "Insufficient justification"
    OUT_OF_SCOPE = "out_of_scope", "Outside the charter's scope"
    BALLOT_REJECTED = "ballot_rejected", "Rejected by ballot"
    OTHER = "other", "Other"


class TransferStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


# Shares of an account's allocation whose consumption raises an alert, once each.
ALERT_THRESHOLDS = (75, 90, 100)
