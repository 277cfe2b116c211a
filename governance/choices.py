"""Choice values of the governance app (the public contract of DESIGN.md section 3)."""

from django.db import models


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
