"""Choice values of the governance app (the public contract of DESIGN.md section 3)."""

from django.db import models


class RollCallPublication(models.TextChoices):
    """What a committee publishes about named votes once a ballot has closed (DESIGN.md 2.8).

    One of the committee's voting rules: set while it is being set up, fixed once it is
    constituted, like its quorum and default methods (2.7)."""

    COUNTS_ONLY = "counts_only", "Per-sector counts only"
    AFTER_CLOSE = "after_close", "Named roll call, after the ballot closes"


class Sector(models.TextChoices):
    """The sectors that sit in equal numbers. Every rule treats all sectors alike."""

    PUBLIC = "public", "Public"
    PRIVATE = "private", "Private"


class Role(models.TextChoices):
    """A member's role on a committee."""

    CHAIR = "chair", "Co-chair"
    MEMBER = "member", "Member"
    SECRETARY = "secretary", "Secretary"
    OBSERVER = "observer", "Observer"


class VotingMethod(models.TextChoices):
    """How a ballot's per-sector results combine into an outcome (DESIGN.md 2.1)."""

    PARITY_MAJORITY = "parity_majority", "Parity majority"
    DOUBLE_MAJORITY = "double_majority", "Double majority"
    DOUBLE_SUPERMAJORITY = "double_supermajority", "Double supermajority"


# How strict each method is: a ballot's method may be the committee's default for its kind of
# subject or stricter, never weaker (DESIGN.md 2.7).
METHOD_STRICTNESS: dict[str, int] = {
    VotingMethod.PARITY_MAJORITY: 0,
    VotingMethod.DOUBLE_MAJORITY: 1,
    VotingMethod.DOUBLE_SUPERMAJORITY: 2,
}


class SubjectType(models.TextChoices):
    """What a ballot decides on. Each type's rules live in the subject's app (governance.subjects)."""

    CHARTER = "charter", "Project charter"
    CREDIT_REQUEST = "credit_request", "Credit request"
    ROADMAP = "roadmap", "Roadmap"
    SOP = "sop", "Standard operating procedure"
    MOTION = "motion", "Motion"


class PortalRole(models.TextChoices):
    """Portal roles, each kept as an auth Group of this name."""

    COMMITTEE_MEMBER = "Committee members"
    CO_CHAIR = "Co-chairs"
    SECRETARY = "Secretaries"
    PROGRAM_MANAGER = "Program managers"
    STAFF = "Staff"
    AUDITOR = "Auditors"


# The portal group a committee role puts its holder in; observers get none.
GROUP_OF_ROLE = {
    Role.CHAIR: PortalRole.CO_CHAIR,
    Role.MEMBER: PortalRole.COMMITTEE_MEMBER,
    Role.SECRETARY: PortalRole.SECRETARY,
}


class BallotStatus(models.TextChoices):
    """A ballot's lifecycle: prepared as a draft, opened by a co-chair, closed for good."""

    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


# The only moves a ballot makes. A closed ballot is immutable: nothing leaves `closed`.
BALLOT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    BallotStatus.DRAFT: (BallotStatus.OPEN,),
    BallotStatus.OPEN: (BallotStatus.CLOSED,),
    BallotStatus.CLOSED: (),
}


class Outcome(models.TextChoices):
    """The result of a closed ballot (DESIGN.md 2.1)."""

    PASSED = "passed", "Passed"
    REJECTED = "rejected", "Rejected"
    DEADLOCKED = "deadlocked", "Deadlocked"
    NO_QUORUM = "no_quorum", "No quorum"


class VoteChoice(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    ABSTAIN = "abstain", "Abstain"


class MeetingStatus(models.TextChoices):
    """A meeting is scheduled, then held; its minutes have their own status."""

    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


MEETING_TRANSITIONS: dict[str, tuple[str, ...]] = {
    MeetingStatus.SCHEDULED: (MeetingStatus.HELD, MeetingStatus.CANCELLED),
    MeetingStatus.HELD: (),
    MeetingStatus.CANCELLED: (),
}


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "Present"
    REMOTE = "remote", "Present remotely"
    EXCUSED = "excused", "Excused"
    ABSENT = "absent", "Absent"


class Rsvp(models.TextChoices):
    """A person's own answer to a meeting's invitation (their intention; the attendance the
    secretary records is what happened). The values are iCalendar's PARTSTAT, in lower case."""

    NEEDS_ACTION = "needs-action", "No reply yet"
    ACCEPTED = "accepted", "Will attend"
    TENTATIVE = "tentative", "Might attend"
    DECLINED = "declined", "Will not attend"


# Who counts as taking part in the meeting.
ATTENDING = (AttendanceStatus.PRESENT, AttendanceStatus.REMOTE)


class MinutesStatus(models.TextChoices):
    """Minutes are drafted by the secretary and frozen once approved."""

    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"


MINUTES_TRANSITIONS: dict[str, tuple[str, ...]] = {
    MinutesStatus.DRAFT: (MinutesStatus.APPROVED,),
    MinutesStatus.APPROVED: (),
}


class SOPCategory(models.TextChoices):
    """What a standard operating procedure governs."""

    DECISION_MAKING = "decision_making", "Decision-making"
    CONFLICT_RESOLUTION = "conflict_resolution", "Conflict resolution"
    PROGRESS_REPORTING = "progress_reporting", "Progress reporting"
    OTHER = "other", "Other"


class SOPVersionStatus(models.TextChoices):
    """A version is drafted, put to a ballot, and adopted (superseding the one before) or not.

    While its ballot is open a draft cannot be edited (the services check for the open ballot);
    a deadlock or a missed quorum leaves it a draft, ready for a second ballot.
    """

    DRAFT = "draft", "Draft"
    ADOPTED = "adopted", "Adopted"
    SUPERSEDED = "superseded", "Superseded"
    REJECTED = "rejected", "Rejected"


SOP_VERSION_TRANSITIONS: dict[str, tuple[str, ...]] = {
    SOPVersionStatus.DRAFT: (SOPVersionStatus.ADOPTED, SOPVersionStatus.REJECTED),
    SOPVersionStatus.ADOPTED: (SOPVersionStatus.SUPERSEDED,),
    SOPVersionStatus.SUPERSEDED: (),
    SOPVersionStatus.REJECTED: (),
}


class MembershipChangeKind(models.TextChoices):
    """What a proposed change does to a constituted committee's seats (DESIGN.md 2.7)."""

    SEAT = "seat", "Seat a person"
    END_TERM = "end_term", "End a term"
    CHANGE_ROLE = "change_role", "Change a role"


class MembershipChangeStatus(models.TextChoices):
    """A proposed seat change waits for consent, then is applied, or is withdrawn."""

    PENDING = "pending", "Pending"
    APPLIED = "applied", "Applied"
    WITHDRAWN = "withdrawn", "Withdrawn"


MEMBERSHIP_CHANGE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    MembershipChangeStatus.PENDING: (MembershipChangeStatus.APPLIED, MembershipChangeStatus.WITHDRAWN),
    MembershipChangeStatus.APPLIED: (),
    MembershipChangeStatus.WITHDRAWN: (),
}


class WitnessAnswer(models.TextChoices):
    """What a witness said when the log pushed it a checkpoint (governance.transparency)."""

    COSIGNED = "cosigned", "Cosigned"
    ALREADY = "already", "Had cosigned it already"
    REFUSED = "refused", "Refused (a fork, a rewind or a bad proof)"
    UNAVAILABLE = "unavailable", "Could not be reached"


class SubstitutionScope(models.TextChoices):
    """What a substitute is named for (DESIGN.md 2.1): one ballot, the ballots of one meeting's
    agenda, or every ballot of the committee voted on within a period."""

    BALLOT = "ballot", "One ballot"
    MEETING = "meeting", "One meeting"
    PERIOD = "period", "A period"


class SubstitutionStatus(models.TextChoices):
    """A substitution is in force until its member withdraws it (before the substitute votes
    under it) or its scope is over."""

    ACTIVE = "active", "In force"
    WITHDRAWN = "withdrawn", "Withdrawn"


class NotificationDelivery(models.TextChoices):
    """How a person receives the portal's e-mails. Deadlines (a ballot opened, a closing
    reminder, a request to sign) always go at once; the rest may wait for a digest."""

    IMMEDIATE = "immediate", "Immediately, one e-mail each"
    DAILY = "daily", "A daily digest"
    WEEKLY = "weekly", "A weekly digest"
