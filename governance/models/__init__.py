"""Models of the governance app: the body's people and its audit log."""

from governance.models.audit import AuditEvent
from governance.models.base import TimeStampedModel
from governance.models.outbox import OutboxTask
from governance.models.people import Committee, Membership, Organization, User

__all__ = ["AuditEvent", "Committee", "Membership", "Organization", "OutboxTask", "TimeStampedModel", "User"]
