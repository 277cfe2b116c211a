"""Models of the governance app: the body's people, its ballots and its audit log."""

from governance.models.audit import AuditEvent
from governance.models.ballots import Ballot, Eligibility, Recusal, Vote
from governance.models.base import TimeStampedModel
from governance.models.people import Committee, Membership, Organization, User

__all__ = [
    "AuditEvent",
    "Ballot",
    "Committee",
    "Eligibility",
    "Membership",
    "Organization",
    "Recusal",
    "TimeStampedModel",
    "User",
    "Vote",
]
