"""What a ballot asks of the roadmap (the `roadmap` subject type; see governance/subjects.py).

The subject of every roadmap ballot is a `Roadmap` version. What the ballot decides follows
from the version's state, which cannot change while a ballot on it is open:

- a **draft** version: approval. Passed → the version is approved, the approved version before
  it superseded, and its plan baselined. Any other outcome leaves it a draft, which can be
  revised and put to a further ballot.
- an **approved** version with a pending `RebaselineRequest` (at most one per roadmap):
  re-baselining. Passed → the proposal is adopted and its new named baseline taken; rejected →
  the proposal is rejected; deadlocked or inquorate → it stays pending for a further ballot.

Parties: none. The roadmap is the body's joint plan, sponsored by the member organizations of
both sectors together; an initiative's sponsors gain nothing from its place on the roadmap that
the other members do not share, so nobody is recused automatically. A member who has a
conflict declares it on the ballot like on any other.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from governance.choices import Outcome
from governance.exceptions import DomainError
from roadmap.choices import RebaselineStatus, RoadmapStatus
from roadmap.models import RebaselineRequest, Roadmap
from roadmap.services import baselines, roadmaps


def get_subject(subject_id: int, *, for_update: bool = False) -> Roadmap:
    queryset = Roadmap.objects.all()
    if for_update:
        queryset = queryset.select_for_update()
    return queryset.get(pk=subject_id)


def committee_id(subject: Roadmap) -> int | None:
    """A roadmap version is decided by the committee that owns the roadmap."""
    return subject.committee_id


def parties(subject: Roadmap) -> set[int]:
    """Nobody is party to the joint roadmap (see the module docstring)."""
    return set()


def pending_rebaseline(subject: Roadmap) -> RebaselineRequest | None:
    """The re-baselining a ballot on this approved roadmap decides, if any."""
    if subject.status != RoadmapStatus.APPROVED:
        return None
    return subject.pending_rebaseline()


def check_can_open(subject: Roadmap) -> None:
    """A draft opens for approval once every initiative it holds has a milestone; an approved
    version opens only to decide a pending re-baselining."""
    if subject.status == RoadmapStatus.DRAFT:
        initiatives = list(subject.initiatives.all())
        if not initiatives:
            raise DomainError(f"Roadmap v{subject.version} holds no initiative yet; there is nothing to approve.")
        empty = [i.title for i in initiatives if not i.milestones.exists()]
        if empty:
            raise DomainError(f"These initiatives have no milestone yet: {', '.join(empty)}.")
        return
    if subject.status == RoadmapStatus.APPROVED:
        if pending_rebaseline(subject) is None:
            raise DomainError(
                f"Roadmap v{subject.version} is already approved. To change its committed dates, propose a "
                "re-baselining first; to change its scope, draft the next version."
            )
        return
    raise DomainError(f"Roadmap v{subject.version} is superseded; ballots decide only the current versions.")


def apply_outcome(subject: Roadmap, ballot, actor) -> None:
    """Apply a closed ballot's outcome (inside the closing transaction)."""
    if subject.status == RoadmapStatus.DRAFT:
        if ballot.outcome == Outcome.PASSED:
            roadmaps.approve_roadmap(actor, subject, ballot)
        return
    request = pending_rebaseline(subject)
    if request is None:
        return
    if ballot.outcome == Outcome.PASSED:
        baselines.adopt_rebaseline(actor, request, ballot)
    elif ballot.outcome == Outcome.REJECTED:
        baselines.reject_rebaseline(actor, request, ballot)


def describe(subject: Roadmap) -> str:
    request = pending_rebaseline(subject)
    if request is not None:
        return f"Roadmap v{subject.version}: re-baselining '{request.name}'"
    return f"Roadmap v{subject.version}: {subject.title}"


def url(subject: Roadmap) -> str:
    return reverse("roadmap:roadmap-detail", args=[subject.pk])


def candidates(committee_ids: set[int]) -> list[tuple[int, str]]:
    """Draft versions (approval) and approved ones with a re-baselining proposed."""
    versions = (
        Roadmap.objects.filter(committee_id__in=committee_ids)
        .filter(
            Q(status=RoadmapStatus.DRAFT)
            | Q(status=RoadmapStatus.APPROVED, rebaseline_requests__status=RebaselineStatus.PROPOSED)
        )
        .distinct()
        .order_by("-version")[:100]
    )
    return [(roadmap.pk, f"Roadmap v{roadmap.version}: {roadmap.title}") for roadmap in versions]
