"""Choice values of the charters app (DESIGN.md 2.2), with the charter lifecycle beside them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class CharterStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    UNDER_REVIEW = "under_review", "Under review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    REVISION_REQUESTED = "revision_requested", "Revision requested"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"


@dataclass(frozen=True)
class Transition:
    """One step of the charter lifecycle: its name (the API action), where it may start, where
    it ends, and who may take it (enforced by the service of the same name)."""

    name: str
    label: str
    sources: tuple[str, ...]
    target: str
    who: str


# The charter lifecycle, the only steps a charter can take. Each row is one service in
# charters/services.py and one POST /api/charters/{id}/<name>/.
CHARTER_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition(
            "submit",
            "Submit",
            (CharterStatus.DRAFT, CharterStatus.REVISION_REQUESTED),
            CharterStatus.SUBMITTED,
            "its author or a person of its lead organization",
        ),
        Transition(
            "start_review",
            "Start review",
            (CharterStatus.SUBMITTED,),
            CharterStatus.UNDER_REVIEW,
            "the secretary of its committee",
        ),
        Transition(
            "approve",
            "Approve",
            (CharterStatus.UNDER_REVIEW,),
            CharterStatus.APPROVED,
            "a ballot on it that passed",
        ),
        Transition(
            "reject",
            "Reject",
            (CharterStatus.UNDER_REVIEW,),
            CharterStatus.REJECTED,
            "a ballot on it that was rejected",
        ),
        Transition(
            "request_revision",
            "Request revision",
            (CharterStatus.UNDER_REVIEW,),
            CharterStatus.REVISION_REQUESTED,
            "the co-chairs or secretary of its committee, while no ballot on it is open",
        ),
        Transition(
            "activate",
            "Activate",
            (CharterStatus.APPROVED,),
            CharterStatus.ACTIVE,
            "its author, a person of its lead organization, or a co-chair",
        ),
        Transition(
            "suspend",
            "Suspend",
            (CharterStatus.ACTIVE,),
            CharterStatus.SUSPENDED,
            "the co-chairs of both sectors of its committee, or the portal when a data use agreement expires",
        ),
        Transition(
            "resume",
            "Resume",
            (CharterStatus.SUSPENDED,),
            CharterStatus.ACTIVE,
            "the co-chairs of both sectors of its committee",
        ),
        Transition(
            "complete",
            "Complete",
            (CharterStatus.ACTIVE,),
            CharterStatus.COMPLETED,
            "its author, a person of its lead organization, or a co-chair",
        ),
        Transition(
            "terminate",
            "Terminate",
            (CharterStatus.APPROVED, CharterStatus.ACTIVE, CharterStatus.SUSPENDED),
            CharterStatus.TERMINATED,
            "the co-chairs of both sectors of its committee",
        ),
    ]
}


# Steps a person takes only with the consent of the co-chair of every sector (DESIGN.md 2.7: no
# single sector or person decides alone). The first co-chair's request is recorded and waits;
# the step is taken when the last sector's co-chair asks for the same.
BOTH_SECTOR_STEPS = ("suspend", "resume", "terminate")


def legal_targets(status: str) -> list[str]:
    """The statuses a charter in `status` may move to, in lifecycle order."""
    targets = {t.target for t in CHARTER_TRANSITIONS.values() if status in t.sources}
    return [value for value in CharterStatus.values if value in targets]


def transitions_from(status: str) -> list[Transition]:
    """The transitions that may start from `status`."""
    return [t for t in CHARTER_TRANSITIONS.values() if status in t.sources]


# Statuses in which the content of a charter may be edited by its authors.
EDITABLE_STATUSES = (CharterStatus.DRAFT, CharterStatus.REVISION_REQUESTED)
# Statuses in which an approved charter may be amended (a new version, with its own ballot).
AMENDABLE_STATUSES = (CharterStatus.APPROVED, CharterStatus.ACTIVE, CharterStatus.SUSPENDED)
# Statuses in which work under the charter runs or has run: models may be registered.
PRODUCING_STATUSES = (CharterStatus.ACTIVE, CharterStatus.COMPLETED)


class IPFramework(models.TextChoices):
    GOVERNMENT_OWNED = "government_owned", "Government-owned"
    JOINT_POOL = "joint_pool", "Joint IP pool"
    PRIVATE_LICENSED = "private_licensed", "Private, licensed to government"


# The seed's comparison of the three IP framework models (shared/seeds, "IP Framework Models:
# Comparison"), row by row. The source leaves some cells blank; they stay None here and the
# page says so rather than inventing a value.
IP_FRAMEWORK_COMPARISON: list[tuple[str, dict[str, str | None]]] = [
    (
        "IP ownership",
        {
            IPFramework.GOVERNMENT_OWNED: "Exclusively held by the public entity",
            IPFramework.JOINT_POOL: "Shared between all consortium members",
            IPFramework.PRIVATE_LICENSED: "Remains with the private developer(s)",
        },
    ),
    (
        "Commercialization rights",
        {
            IPFramework.GOVERNMENT_OWNED: "Licensed to private partners via competitive tender",
            IPFramework.JOINT_POOL: "Governed by a pre-negotiated consortium agreement",
            IPFramework.PRIVATE_LICENSED: "Private partner controls; government receives a royalty-free licence "
            "for public use",
        },
    ),
    (
        "Time to market",
        {
            IPFramework.GOVERNMENT_OWNED: None,
            IPFramework.JOINT_POOL: "12–18 months",
            IPFramework.PRIVATE_LICENSED: "< 12 months",
        },
    ),
    ("Attractiveness to private partners", dict.fromkeys(("government_owned", "joint_pool", "private_licensed"))),
    (
        "Alignment with national strategic control",
        dict.fromkeys(("government_owned", "joint_pool", "private_licensed")),
    ),
    ("Suitability for dual-use technology", dict.fromkeys(("government_owned", "joint_pool", "private_licensed"))),
    (
        "Model complexity and negotiation overhead",
        {
            IPFramework.GOVERNMENT_OWNED: "High",
            IPFramework.JOINT_POOL: "Medium",
            IPFramework.PRIVATE_LICENSED: "Low",
        },
    ),
    (
        "Best for",
        {
            IPFramework.GOVERNMENT_OWNED: "Foundational models for national security",
            IPFramework.JOINT_POOL: "Pre-competitive R&D (e.g. healthcare, climate)",
            IPFramework.PRIVATE_LICENSED: "Applied solutions for public service delivery",
        },
    ),
]


class DataClassification(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    SENSITIVE = "sensitive", "Sensitive"
    RESTRICTED = "restricted", "Restricted"


class AnonymizationStandard(models.TextChoices):
    """How personal data is protected before the parties may use it."""

    NONE = "none", "None (no personal data)"
    PSEUDONYMISED = "pseudonymised", "Pseudonymised"
    K_ANONYMITY = "k_anonymity", "k-anonymity"
    DIFFERENTIAL_PRIVACY = "differential_privacy", "Differential privacy"
    AGGREGATED = "aggregated", "Aggregated statistics only"
    SYNTHETIC = "synthetic", "Synthetic data"


class InsightsOwner(models.TextChoices):
    """Who owns the insights derived from the shared data."""

    DATA_PROVIDER = "data_provider", "The data provider"
    JOINT = "joint", "All parties jointly"
    LEAD_ORGANIZATION = "lead_organization", "The charter's lead organization"
    PUBLIC_DOMAIN = "public_domain", "Public domain"


class ReviewKind(models.TextChoices):
    """The technical reviews a charter version passes before it goes to ballot."""

    DATA_SOVEREIGNTY = "data_sovereignty", "Data sovereignty"
    BIAS_AUDIT = "bias_audit", "Bias audit plan"


class ReviewVerdict(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


# The checklist of each review: (key, question). Items marked automatic are computed by the
# portal from the charter's resources, datasets and jurisdictions; the reviewer answers the rest.
REVIEW_CHECKLISTS: dict[str, list[tuple[str, str, bool]]] = {
    ReviewKind.DATA_SOVEREIGNTY: [
        ("resources_in_jurisdiction", "Every resource the charter names is in an allowed jurisdiction", True),
        (
            "datasets_in_jurisdiction",
            "Every dataset under its data use agreements resides in an allowed jurisdiction",
            True,
        ),
        ("tee_for_restricted", "Restricted data is processed only on TEE-capable resources", True),
        ("transfers_documented", "Data flows and cross-border transfers are documented", False),
        ("retention_defined", "Retention and deletion of data at the end of the project are defined", False),
    ],
    ReviewKind.BIAS_AUDIT: [
        ("groups_identified", "Affected groups and protected attributes are identified", False),
        ("metrics_defined", "Fairness metrics and acceptance thresholds are defined", False),
        ("evaluation_data", "Representative evaluation data is available", False),
        ("schedule_named", "Audit schedule and responsible party are named", False),
        ("mitigation_plan", "A mitigation plan exists for findings above the thresholds", False),
    ],
}


class VersionStatus(models.TextChoices):
    """Where one version of a charter stands. The first version follows the charter's own
    review; later versions are amendments of an approved charter, each with its own ballot."""

    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    REVISION_REQUESTED = "revision_requested", "Revision requested"
    WITHDRAWN = "withdrawn", "Withdrawn"
