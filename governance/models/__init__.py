"""Models of the governance app: the body's people, ballots, meetings, SOPs, its audit log and task outbox."""

from governance.models.audit import AuditEvent
from governance.models.ballots import Ballot, CloseRequest, Eligibility, Recusal, Vote
from governance.models.base import TimeStampedModel
from governance.models.digests import Digest, DigestItem
from governance.models.meetings import AgendaItem, Attendance, Meeting, MeetingFeed, Minutes, MinutesPdf
from governance.models.outbox import OutboxTask
from governance.models.people import Committee, Membership, MembershipChange, Organization, User
from governance.models.sops import SOP, SOPVersion
from governance.models.substitutes import Substitution
from governance.models.tokens import ApiToken
from governance.models.transparency import Cosignature, LogCheckpoint, LogNode, LogState, LogVerification

__all__ = [
    "ApiToken",
    "SOP",
    "AgendaItem",
    "Attendance",
    "AuditEvent",
    "Ballot",
    "CloseRequest",
    "Committee",
    "Cosignature",
    "Digest",
    "DigestItem",
    "Eligibility",
    "LogCheckpoint",
    "LogNode",
    "LogState",
    "LogVerification",
    "Meeting",
    "MeetingFeed",
    "Membership",
    "MembershipChange",
    "Minutes",
    "MinutesPdf",
    "Organization",
    "OutboxTask",
    "Recusal",
    "SOPVersion",
    "Substitution",
    "TimeStampedModel",
    "User",
    "Vote",
]
