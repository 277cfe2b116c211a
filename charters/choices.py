"""Choice values of the charters app (DESIGN.md 2.2), with the charter lifecycle."""

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


class IPFramework(models.TextChoices):
    GOVERNMENT_OWNED = "government_owned", "Government-owned"
    JOINT_POOL = "joint_pool", "Joint IP pool"
    PRIVATE_LICENSED = "private_licensed", "Private, licensed to government"


class DataClassification(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    SENSITIVE = "sensitive", "Sensitive"
    RESTRICTED = "restricted", "Restricted"
