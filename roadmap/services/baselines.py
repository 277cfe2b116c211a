"""Baselines and re-baselining. Baselines are the body's commitments: taken only when a passed
ballot approves a roadmap version (roadmaps.approve_roadmap) or adopts a re-baselining, and
nothing a ballot is deciding moves while it is open."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.audit import record_event
from governance.choices import Outcome
from governance.exceptions import DomainError
from governance.models import Ballot, User
from governance.subjects import require_decision
from governance.transitions import check_transition
from roadmap.choices import (
    REBASELINE_TRANSITIONS,
    BaselineKind,
    MilestoneStatus,
    RebaselineStatus,
    RoadmapStatus,
)
from roadmap.models import (
    Baseline,
    BaselineEntry,
    Milestone,
    RebaselineEntry,
    RebaselineRequest,
    Roadmap,
)
from roadmap.permissions import require_planner


def refuse_while_balloting(roadmap: Roadmap, message: str) -> None:
    """What a ballot is deciding must not move under it: a draft's scope and planned dates, or
    a pending re-baselining, stay as the voters saw them until the ballot closes."""
    if Ballot.objects.on(roadmap).open().exists():
        raise DomainError(message, code="ballot_open")


def require_passed_ballot(ballot: Ballot | None, roadmap: Roadmap, what: str) -> None:
    """Refuse unless `ballot` is a closed, passed ballot on this roadmap version."""
    require_decision(
        ballot, roadmap, Outcome.PASSED, what, message=f"Only a passed ballot on roadmap v{roadmap.version} can {what}."
    )


def take_baseline(
    actor: User | None,
    roadmap: Roadmap,
    *,
    name: str,
    kind: str,
    reason: str,
    ballot,
    proposed: Mapping[int, datetime.date] | None = None,
    request: RebaselineRequest | None = None,
) -> Baseline:
    """Snapshot every milestone of the roadmap and make the snapshot the committed dates.

    A milestone's baseline date becomes the proposed date (re-baselining), else stays what it
    was, else (never baselined) is its forecast.
    """
    proposed = proposed or {}
    milestones = list(roadmap.milestones().select_related("initiative").select_for_update(of=("self",)))
    baseline = Baseline(
        roadmap=roadmap,
        name=name,
        kind=kind,
        reason=reason,
        ballot=ballot,
        request=request,
        created_at=timezone.now(),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    baseline.full_clean(exclude=["request"])
    baseline.save()
    entries, changed = [], {}
    for milestone in milestones:
        date = proposed.get(milestone.pk) or milestone.baseline_date or milestone.forecast_date
        if date != milestone.baseline_date:
            changed[milestone.pk] = [milestone.baseline_date, date]
            milestone.baseline_date = date
        entries.append(
            BaselineEntry(
                baseline=baseline,
                milestone=milestone,
                initiative_title=milestone.initiative.title,
                title=milestone.title,
                baseline_date=date,
                forecast_date=milestone.forecast_date,
                actual_date=milestone.actual_date,
                status=milestone.status,
                percent_complete=milestone.percent_complete,
            )
        )
    BaselineEntry.objects.bulk_create(entries)
    Milestone.objects.bulk_update([m for m in milestones if m.pk in changed], ["baseline_date"])
    record_event(
        actor,
        "baseline.created",
        baseline,
        after={"name": name, "kind": kind, "ballot": ballot.pk, "milestones": len(entries), "changed": changed},
    )
    return baseline


@transaction.atomic
def propose_rebaseline(
    actor: User | None,
    roadmap: Roadmap,
    *,
    name: str,
    reason: str,
    dates: Mapping[int, datetime.date] | None = None,
) -> RebaselineRequest:
    """Propose new committed dates for the approved roadmap, to be put to a ballot.

    Each milestone is proposed at `dates[milestone id]` when given; otherwise an open milestone
    at its forecast (the usual re-baselining makes today's forecasts the commitment) and a done
    one at the date it was committed to, so a milestone that finished late stays on record as late.
    """
    require_planner(actor)
    roadmap = Roadmap.objects.select_for_update().get(pk=roadmap.pk)
    if roadmap.status != RoadmapStatus.APPROVED:
        raise DomainError(
            "Only the approved roadmap is re-baselined; a draft's dates change freely until it is approved.",
            code="roadmap_not_approved",
        )
    pending = roadmap.pending_rebaseline()
    if pending is not None:
        raise DomainError(
            f"The re-baselining '{pending.name}' of this roadmap is already pending; it must be decided or "
            "withdrawn first.",
            code="rebaseline_pending",
        )
    if roadmap.baselines.filter(name=name).exists():
        raise ValidationError({"name": "This roadmap already has a baseline with this name."})
    dates = dict(dates or {})
    milestones = list(roadmap.milestones())
    unknown = set(dates) - {m.pk for m in milestones}
    if unknown:
        raise ValidationError({"dates": f"Not milestones of this roadmap: {', '.join(map(str, sorted(unknown)))}."})
    request = RebaselineRequest(roadmap=roadmap, name=name, reason=reason, proposed_by=actor)
    request.full_clean()
    entries = [
        RebaselineEntry(milestone=m, previous_date=m.baseline_date, proposed_date=dates.get(m.pk, _proposed_default(m)))
        for m in milestones
    ]
    if all(entry.previous_date == entry.proposed_date for entry in entries):
        raise ValidationError({"dates": "The proposal changes no committed date; there is nothing to re-baseline."})
    request.save()
    for entry in entries:
        entry.request = request
    RebaselineEntry.objects.bulk_create(entries)
    record_event(
        actor,
        "rebaseline.proposed",
        request,
        after={
            "roadmap": roadmap.pk,
            "name": name,
            "reason": reason,
            "dates": {
                e.milestone_id: [e.previous_date, e.proposed_date]
                for e in entries
                if e.previous_date != e.proposed_date
            },
        },
    )
    return request


def _proposed_default(milestone: Milestone) -> datetime.date:
    if milestone.status == MilestoneStatus.DONE and milestone.baseline_date is not None:
        return milestone.baseline_date
    return milestone.forecast_date


def decide_rebaseline(actor: User | None, request: RebaselineRequest, status: str, *, ballot) -> None:
    check_transition("re-baselining", request.status, status, REBASELINE_TRANSITIONS)
    before = request.status
    request.status = status
    request.decided_at = timezone.now()
    request.ballot = ballot
    request.save(update_fields=["status", "decided_at", "ballot", "updated_at"])
    record_event(
        actor,
        f"rebaseline.{status}",
        request,
        before={"status": before},
        after={"status": status, "ballot": request.ballot_id},
    )


@transaction.atomic
def withdraw_rebaseline(actor: User | None, request: RebaselineRequest) -> RebaselineRequest:
    """Withdraw a pending proposal; not while a ballot is deciding it."""
    require_planner(actor)
    request = RebaselineRequest.objects.select_for_update().select_related("roadmap").get(pk=request.pk)
    refuse_while_balloting(request.roadmap, "A ballot on this re-baselining is open; it cannot be withdrawn now.")
    decide_rebaseline(actor, request, RebaselineStatus.WITHDRAWN, ballot=None)
    return request


@transaction.atomic
def adopt_rebaseline(actor: User | None, request: RebaselineRequest, ballot) -> Baseline:
    """Adopt a proposal after its ballot passed: the new named baseline is taken with the
    proposed dates, which become the committed dates of the milestones."""
    request = RebaselineRequest.objects.select_for_update().select_related("roadmap").get(pk=request.pk)
    require_passed_ballot(ballot, request.roadmap, "re-baseline it")
    check_transition("re-baselining", request.status, RebaselineStatus.ADOPTED, REBASELINE_TRANSITIONS)
    baseline = take_baseline(
        actor,
        request.roadmap,
        name=request.name,
        kind=BaselineKind.REBASELINE,
        reason=request.reason,
        ballot=ballot,
        proposed={e.milestone_id: e.proposed_date for e in request.entries.all()},
        request=request,
    )
    decide_rebaseline(actor, request, RebaselineStatus.ADOPTED, ballot=ballot)
    return baseline


@transaction.atomic
def reject_rebaseline(actor: User | None, request: RebaselineRequest, ballot) -> RebaselineRequest:
    """Close a proposal that its ballot rejected; the committed dates stay as they are."""
    request = RebaselineRequest.objects.select_for_update().get(pk=request.pk)
    if not isinstance(ballot, Ballot) or ballot.outcome != Outcome.REJECTED:
        raise DomainError("Only a rejected ballot rejects a re-baselining.", code="ballot_required")
    decide_rebaseline(actor, request, RebaselineStatus.REJECTED, ballot=ballot)
    return request
