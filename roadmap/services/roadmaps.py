"""Roadmap versions: drafting and changing a draft, the next version, and approval by a
passed ballot (which supersedes the version before and baselines the approved plan)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from governance.audit import record_event, snapshot
from governance.exceptions import DomainError
from governance.models import Committee, User
from governance.transitions import check_transition
from roadmap.choices import (
    ROADMAP_TRANSITIONS,
    BaselineKind,
    RebaselineStatus,
    RoadmapStatus,
)
from roadmap.models import (
    Initiative,
    Roadmap,
)
from roadmap.permissions import require_planner
from roadmap.services.baselines import decide_rebaseline, refuse_while_balloting, require_passed_ballot, take_baseline
from roadmap.services.fields import ids, pick

ROADMAP_FIELDS = ["committee", "title", "summary", "starts_on", "ends_on"]


def _roadmap_snapshot(roadmap: Roadmap) -> dict:
    return {**snapshot(roadmap, [*ROADMAP_FIELDS, "status"]), "initiatives": ids(roadmap.initiatives.all())}


@transaction.atomic
def create_roadmap(actor: User | None, *, initiatives: Iterable[Initiative] = (), **fields: Any) -> Roadmap:
    """Draft a new roadmap version; it takes the committee's next version number."""
    require_planner(actor)
    committee = fields.get("committee")
    if committee is None:
        raise ValidationError({"committee": "A roadmap belongs to the committee that approves it."})
    # Locking the committee serializes version numbering between concurrent drafts.
    Committee.objects.select_for_update().get(pk=committee.pk)
    last = Roadmap.objects.filter(committee=committee).aggregate(last=Max("version"))["last"] or 0
    roadmap = Roadmap(**pick(fields, ROADMAP_FIELDS), version=last + 1, created_by=actor)
    roadmap.full_clean()
    roadmap.save()
    roadmap.initiatives.set(list(initiatives))
    record_event(actor, "roadmap.created", roadmap, after=_roadmap_snapshot(roadmap))
    return roadmap


@transaction.atomic
def update_roadmap(
    actor: User | None, roadmap: Roadmap, *, initiatives: Iterable[Initiative] | None = None, **fields: Any
) -> Roadmap:
    """Change a draft version: its horizon, wording and which initiatives it holds. An approved
    version is the body's decision and does not change; draft the next version instead."""
    require_planner(actor)
    roadmap = Roadmap.objects.select_for_update().get(pk=roadmap.pk)
    if roadmap.status != RoadmapStatus.DRAFT:
        raise DomainError(
            f"Roadmap v{roadmap.version} is {roadmap.get_status_display().lower()}; only a draft changes. "
            "Draft the next version to change it.",
            code="roadmap_not_draft",
        )
    refuse_while_balloting(roadmap, "A ballot on this draft is open; it cannot change until the ballot closes.")
    if "committee" in fields and fields["committee"].pk != roadmap.committee_id:
        raise ValidationError({"committee": "A roadmap stays with the committee that approves it."})
    before = _roadmap_snapshot(roadmap)
    for name, value in pick(fields, ROADMAP_FIELDS).items():
        setattr(roadmap, name, value)
    roadmap.full_clean()
    roadmap.save()
    if initiatives is not None:
        roadmap.initiatives.set(list(initiatives))
    record_event(actor, "roadmap.updated", roadmap, before=before, after=_roadmap_snapshot(roadmap))
    return roadmap


@transaction.atomic
def draft_next_version(actor: User | None, roadmap: Roadmap, **fields: Any) -> Roadmap:
    """Start the next version from this one: same committee, horizon and initiatives."""
    base = {name: getattr(roadmap, name) for name in ROADMAP_FIELDS}
    return create_roadmap(actor, initiatives=list(roadmap.initiatives.all()), **{**base, **fields})


@transaction.atomic
def approve_roadmap(actor: User | None, roadmap: Roadmap, ballot) -> Roadmap:
    """Approve a draft version after its ballot passed: the approved version before it is
    superseded (its pending re-baselining withdrawn), and the approved plan is baselined."""
    roadmap = Roadmap.objects.select_for_update().get(pk=roadmap.pk)
    require_passed_ballot(ballot, roadmap, "approve it")
    check_transition("roadmap", roadmap.status, RoadmapStatus.APPROVED, ROADMAP_TRANSITIONS)
    now = timezone.now()
    previous = (
        Roadmap.objects.select_for_update()
        .filter(committee_id=roadmap.committee_id, status=RoadmapStatus.APPROVED)
        .first()
    )
    if previous is not None:
        previous.status = RoadmapStatus.SUPERSEDED
        previous.superseded_at = now
        previous.save(update_fields=["status", "superseded_at", "updated_at"])
        record_event(
            actor,
            "roadmap.superseded",
            previous,
            before={"status": RoadmapStatus.APPROVED},
            after={"status": RoadmapStatus.SUPERSEDED, "superseded_by": roadmap.pk},
        )
        for request in previous.rebaseline_requests.select_for_update().filter(status=RebaselineStatus.PROPOSED):
            decide_rebaseline(actor, request, RebaselineStatus.WITHDRAWN, ballot=None)
    roadmap.status = RoadmapStatus.APPROVED
    roadmap.approved_at = now
    roadmap.approval_ballot = ballot
    roadmap.save(update_fields=["status", "approved_at", "approval_ballot", "updated_at"])
    record_event(
        actor,
        "roadmap.approved",
        roadmap,
        before={"status": RoadmapStatus.DRAFT},
        after={"status": RoadmapStatus.APPROVED, "ballot": ballot.pk},
    )
    take_baseline(
        actor,
        roadmap,
        name=f"v{roadmap.version} approved",
        kind=BaselineKind.APPROVAL,
        reason=f"The plan of roadmap v{roadmap.version}, as approved.",
        ballot=ballot,
    )
    return roadmap
