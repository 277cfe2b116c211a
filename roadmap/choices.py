"""Choice values of the roadmap app (DESIGN.md 2.5), with the lifecycles beside them."""

from django.db import models


class RoadmapStatus(models.TextChoices):
    """A version of the joint roadmap: drafted by program managers, approved by a ballot,
    superseded when the next version is approved."""

    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    SUPERSEDED = "superseded", "Superseded"


# A rejected, deadlocked or inquorate ballot leaves a draft a draft: it can be revised and put
# to a further ballot. Only a passed ballot moves a draft on.
ROADMAP_TRANSITIONS: dict[str, tuple[str, ...]] = {
    RoadmapStatus.DRAFT: (RoadmapStatus.APPROVED,),
    RoadmapStatus.APPROVED: (RoadmapStatus.SUPERSEDED,),
    RoadmapStatus.SUPERSEDED: (),
}


class Priority(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    AT_RISK = "at_risk", "At risk"
    BLOCKED = "blocked", "Blocked"


class RAG(models.TextChoices):
    """Red / amber / green, reported by an initiative's owner or derived from the evidence."""

    GREEN = "green", "Green"
    AMBER = "amber", "Amber"
    RED = "red", "Red"


class ReportCadence(models.TextChoices):
    """How often an initiative reports progress; periods are calendar months or quarters."""

    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class BaselineKind(models.TextChoices):
    """Why a baseline exists: a roadmap version was approved, or a re-baselining was adopted.
    Both come from a passed ballot."""

    APPROVAL = "approval", "Approved plan"
    REBASELINE = "rebaseline", "Re-baselining"


class RebaselineStatus(models.TextChoices):
    """A proposal to re-baseline an approved roadmap, decided by a ballot on that roadmap."""

    PROPOSED = "proposed", "Proposed"
    ADOPTED = "adopted", "Adopted"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


# A deadlock or a missed quorum leaves the proposal proposed, ready for a further ballot.
REBASELINE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    RebaselineStatus.PROPOSED: (RebaselineStatus.ADOPTED, RebaselineStatus.REJECTED, RebaselineStatus.WITHDRAWN),
    RebaselineStatus.ADOPTED: (),
    RebaselineStatus.REJECTED: (),
    RebaselineStatus.WITHDRAWN: (),
}
