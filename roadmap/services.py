"""The write path of the roadmap app: every change to roadmap versions, initiatives, milestones,
baselines, re-baselining proposals and progress reports goes through here.

Each function checks who may act, validates, writes and appends the audit event in one
transaction. Views, the API, the admin, the ballot hooks (roadmap.ballots) and tasks call these.
Baselines are taken only by `approve_roadmap` and `adopt_rebaseline`, and both demand the
passed ballot that decided them.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Max, Prefetch
from django.urls import reverse
from django.utils import timezone

from governance.audit import record_event, snapshot
from governance.choices import BallotStatus, Outcome, SubjectType
from governance.exceptions import DomainError, IllegalTransition
from governance.models import Ballot, Committee, User
from governance.outbox import enqueue
from governance.permissions import require
from roadmap import evidence, planning
from roadmap.choices import (
    REBASELINE_TRANSITIONS,
    ROADMAP_TRANSITIONS,
    BaselineKind,
    MilestoneStatus,
    RebaselineStatus,
    RoadmapStatus,
)
from roadmap.models import (
    Baseline,
    BaselineEntry,
    CalendarFeed,
    Initiative,
    Milestone,
    MilestoneDependency,
    ProgressReport,
    RebaselineEntry,
    RebaselineRequest,
    ReportReminder,
    Roadmap,
    Theme,
    can_plan,
    in_the_body,
)

ROADMAP_FIELDS = ["committee", "title", "summary", "starts_on", "ends_on"]
INITIATIVE_FIELDS = [
    "title",
    "summary",
    "national_impact_score",
    "priority",
    "owner",
    "starts_on",
    "report_cadence",
]
MILESTONE_FIELDS = [
    "initiative",
    "title",
    "description",
    "deliverables",
    "baseline_date",
    "forecast_date",
    "actual_date",
    "status",
    "percent_complete",
    "status_note",
]
REPORT_FIELDS = ["period_start", "rag", "summary", "risks", "issues", "next_steps"]
PASSED = Outcome.PASSED
REJECTED = Outcome.REJECTED

# Any constant will do: it names the one lock that serializes changes to the dependency graph,
# so two concurrent edits cannot each add half of a cycle.
_DEPENDENCY_LOCK_KEY = 7_342_101


def _pick(fields: Mapping[str, Any], allowed: list[str]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if name in allowed}


def _require_planner(actor: User | None) -> None:
    require(actor is None or can_plan(actor), "Only program managers edit the roadmap.")


def _ids(objects: Iterable) -> list[int]:
    return sorted(getattr(obj, "pk", obj) for obj in objects)


# --- Themes --------------------------------------------------------------------------------


@transaction.atomic
def create_theme(actor: User | None, *, name: str, slug: str) -> Theme:
    """Add a strand of the roadmap that initiatives can be filed under."""
    _require_planner(actor)
    theme = Theme(name=name, slug=slug)
    theme.full_clean()
    theme.save()
    record_event(actor, "theme.created", theme, after={"name": name, "slug": slug})
    return theme


# --- Roadmap versions ----------------------------------------------------------------------


def _roadmap_snapshot(roadmap: Roadmap) -> dict:
    return {**snapshot(roadmap, [*ROADMAP_FIELDS, "status"]), "initiatives": _ids(roadmap.initiatives.all())}


def _transition(kind: str, transitions: dict, current: str, target: str) -> None:
    if target not in transitions[current]:
        raise IllegalTransition(kind, current, target, list(transitions[current]))


@transaction.atomic
def create_roadmap(actor: User | None, *, initiatives: Iterable[Initiative] = (), **fields: Any) -> Roadmap:
    """Draft a new roadmap version; it takes the committee's next version number."""
    _require_planner(actor)
    committee = fields.get("committee")
    if committee is None:
        raise ValidationError({"committee": "A roadmap belongs to the committee that approves it."})
    # Locking the committee serializes version numbering between concurrent drafts.
    Committee.objects.select_for_update().get(pk=committee.pk)
    last = Roadmap.objects.filter(committee=committee).aggregate(last=Max("version"))["last"] or 0
    roadmap = Roadmap(**_pick(fields, ROADMAP_FIELDS), version=last + 1, created_by=actor)
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
    _require_planner(actor)
    roadmap = Roadmap.objects.select_for_update().get(pk=roadmap.pk)
    if roadmap.status != RoadmapStatus.DRAFT:
        raise DomainError(
            f"Roadmap v{roadmap.version} is {roadmap.get_status_display().lower()}; only a draft changes. "
            "Draft the next version to change it.",
            code="roadmap_not_draft",
        )
    _refuse_while_balloting(roadmap, "A ballot on this draft is open; it cannot change until the ballot closes.")
    if "committee" in fields and fields["committee"].pk != roadmap.committee_id:
        raise ValidationError({"committee": "A roadmap stays with the committee that approves it."})
    before = _roadmap_snapshot(roadmap)
    for name, value in _pick(fields, ROADMAP_FIELDS).items():
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


def _refuse_while_balloting(roadmap: Roadmap, message: str) -> None:
    """What a ballot is deciding must not move under it: a draft's scope and planned dates, or
    a pending re-baselining, stay as the voters saw them until the ballot closes."""
    if Ballot.objects.on(roadmap).open().exists():
        raise DomainError(message, code="ballot_open")


def _require_passed(ballot: Ballot | None, roadmap: Roadmap, what: str) -> None:
    """Refuse unless `ballot` is a closed, passed ballot on this roadmap version."""
    if (
        not isinstance(ballot, Ballot)
        or ballot.status != BallotStatus.CLOSED
        or ballot.outcome != Outcome.PASSED
        or ballot.subject_type != SubjectType.ROADMAP
        or ballot.subject_id != roadmap.pk
    ):
        raise DomainError(f"Only a passed ballot on roadmap v{roadmap.version} can {what}.", code="ballot_required")


@transaction.atomic
def approve_roadmap(actor: User | None, roadmap: Roadmap, ballot) -> Roadmap:
    """Approve a draft version after its ballot passed: the approved version before it is
    superseded (its pending re-baselining withdrawn), and the approved plan is baselined."""
    roadmap = Roadmap.objects.select_for_update().get(pk=roadmap.pk)
    _require_passed(ballot, roadmap, "approve it")
    _transition("roadmap", ROADMAP_TRANSITIONS, roadmap.status, RoadmapStatus.APPROVED)
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
            _decide(actor, request, RebaselineStatus.WITHDRAWN, ballot=None)
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
    _take_baseline(
        actor,
        roadmap,
        name=f"v{roadmap.version} approved",
        kind=BaselineKind.APPROVAL,
        reason=f"The plan of roadmap v{roadmap.version}, as approved.",
        ballot=ballot,
    )
    return roadmap


def _take_baseline(
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


# --- Re-baselining -------------------------------------------------------------------------


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
    _require_planner(actor)
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


def _decide(actor: User | None, request: RebaselineRequest, status: str, *, ballot) -> None:
    _transition("re-baselining", REBASELINE_TRANSITIONS, request.status, status)
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
    _require_planner(actor)
    request = RebaselineRequest.objects.select_for_update().select_related("roadmap").get(pk=request.pk)
    _refuse_while_balloting(request.roadmap, "A ballot on this re-baselining is open; it cannot be withdrawn now.")
    _decide(actor, request, RebaselineStatus.WITHDRAWN, ballot=None)
    return request


@transaction.atomic
def adopt_rebaseline(actor: User | None, request: RebaselineRequest, ballot) -> Baseline:
    """Adopt a proposal after its ballot passed: the new named baseline is taken with the
    proposed dates, which become the committed dates of the milestones."""
    request = RebaselineRequest.objects.select_for_update().select_related("roadmap").get(pk=request.pk)
    _require_passed(ballot, request.roadmap, "re-baseline it")
    _transition("re-baselining", REBASELINE_TRANSITIONS, request.status, RebaselineStatus.ADOPTED)
    baseline = _take_baseline(
        actor,
        request.roadmap,
        name=request.name,
        kind=BaselineKind.REBASELINE,
        reason=request.reason,
        ballot=ballot,
        proposed={e.milestone_id: e.proposed_date for e in request.entries.all()},
        request=request,
    )
    _decide(actor, request, RebaselineStatus.ADOPTED, ballot=ballot)
    return baseline


@transaction.atomic
def reject_rebaseline(actor: User | None, request: RebaselineRequest, ballot) -> RebaselineRequest:
    """Close a proposal that its ballot rejected; the committed dates stay as they are."""
    request = RebaselineRequest.objects.select_for_update().get(pk=request.pk)
    if not isinstance(ballot, Ballot) or ballot.outcome != Outcome.REJECTED:
        raise DomainError("Only a rejected ballot rejects a re-baselining.", code="ballot_required")
    _decide(actor, request, RebaselineStatus.REJECTED, ballot=ballot)
    return request


# --- Initiatives ---------------------------------------------------------------------------


def _initiative_snapshot(initiative: Initiative) -> dict:
    return {
        **snapshot(initiative, INITIATIVE_FIELDS),
        "themes": _ids(initiative.themes.all()),
        "sponsors": _ids(initiative.sponsors.all()),
        "charters": _ids(initiative.charters.all()),
    }


def _set_relations(initiative: Initiative, relations: Mapping[str, Iterable | None]) -> None:
    for name, values in relations.items():
        if values is not None:
            getattr(initiative, name).set(list(values))


@transaction.atomic
def create_initiative(
    actor: User | None,
    *,
    themes: Iterable[Theme] = (),
    sponsors: Iterable = (),
    charters: Iterable = (),
    roadmap: Roadmap | None = None,
    **fields: Any,
) -> Initiative:
    """Add an initiative, optionally straight into a draft roadmap version."""
    _require_planner(actor)
    initiative = Initiative(**_pick(fields, INITIATIVE_FIELDS), created_by=actor)
    initiative.full_clean()
    initiative.save()
    _set_relations(initiative, {"themes": themes, "sponsors": sponsors, "charters": charters})
    record_event(actor, "initiative.created", initiative, after=_initiative_snapshot(initiative))
    if roadmap is not None:
        update_roadmap(actor, roadmap, initiatives=[*roadmap.initiatives.all(), initiative])
    return initiative


@transaction.atomic
def update_initiative(
    actor: User | None,
    initiative: Initiative,
    *,
    themes: Iterable[Theme] | None = None,
    sponsors: Iterable | None = None,
    charters: Iterable | None = None,
    **fields: Any,
) -> Initiative:
    """Change an initiative's description, sponsors, themes, charters or owner."""
    _require_planner(actor)
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)
    before = _initiative_snapshot(initiative)
    for name, value in _pick(fields, INITIATIVE_FIELDS).items():
        setattr(initiative, name, value)
    initiative.full_clean()
    initiative.save()
    _set_relations(initiative, {"themes": themes, "sponsors": sponsors, "charters": charters})
    record_event(actor, "initiative.updated", initiative, before=before, after=_initiative_snapshot(initiative))
    return initiative


# --- Milestones ----------------------------------------------------------------------------


def _milestone_snapshot(milestone: Milestone) -> dict:
    return {**snapshot(milestone, MILESTONE_FIELDS), "depends_on": _ids(milestone.depends_on.all())}


def _lock_dependency_graph() -> None:
    """Serialize changes to the dependency graph until the transaction ends (PostgreSQL; SQLite's
    write lock, taken at BEGIN, already does). Taken before any row lock, so two edits never
    wait on each other in opposite orders."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_DEPENDENCY_LOCK_KEY])


def _set_dependencies(milestone: Milestone, depends_on: Iterable[Milestone]) -> None:
    """Replace the milestone's dependencies, refusing one that would close a cycle."""
    wanted = set(_ids(depends_on))
    if milestone.pk in wanted:
        raise ValidationError({"depends_on": "A milestone cannot depend on itself."})
    _lock_dependency_graph()
    edges = MilestoneDependency.objects.values_list("milestone_id", "depends_on_id")
    cycle = planning.dependency_cycle(milestone.pk, wanted, edges)
    if cycle:
        titles = dict(Milestone.objects.filter(pk__in=cycle).values_list("pk", "title"))
        path = " → ".join(f"“{titles[pk]}”" for pk in cycle)
        raise ValidationError({"depends_on": f"This dependency would create a cycle: {path} (each waits on the next)."})
    milestone.depends_on.set(wanted)


def _is_baselined(milestone: Milestone) -> bool:
    return milestone.baseline_entries.exists()


@transaction.atomic
def create_milestone(actor: User | None, *, depends_on: Iterable[Milestone] = (), **fields: Any) -> Milestone:
    """Add a milestone to an initiative, with the milestones it depends on."""
    _require_planner(actor)
    milestone = Milestone(**_pick(fields, MILESTONE_FIELDS))
    if milestone.initiative_id is None:
        raise ValidationError({"initiative": "A milestone belongs to an initiative."})
    milestone.full_clean()
    milestone.save()
    _set_dependencies(milestone, depends_on)
    record_event(actor, "milestone.created", milestone, after=_milestone_snapshot(milestone))
    return milestone


@transaction.atomic
def update_milestone(
    actor: User | None, milestone: Milestone, *, depends_on: Iterable[Milestone] | None = None, **fields: Any
) -> Milestone:
    """Record progress: forecast, status, percent complete, actual date, dependencies.

    The baseline date of a milestone that a baseline holds is the body's commitment: it changes
    only by re-baselining, which needs a passed ballot.
    """
    _require_planner(actor)
    if depends_on is not None:
        _lock_dependency_graph()
    # NO KEY UPDATE: other transactions may still insert rows that refer to this milestone.
    milestone = Milestone.objects.select_for_update(no_key=True).get(pk=milestone.pk)
    fields = _pick(fields, MILESTONE_FIELDS)
    if "initiative" in fields and fields["initiative"].pk != milestone.initiative_id:
        raise ValidationError({"initiative": "A milestone stays with its initiative."})
    if "baseline_date" in fields and fields["baseline_date"] != milestone.baseline_date:
        if _is_baselined(milestone):
            raise DomainError(
                f"“{milestone.title}” is in a baseline; its baseline date changes only by re-baselining, "
                "which needs a passed ballot.",
                code="baselined",
            )
        for roadmap in milestone.initiative.roadmaps.filter(status=RoadmapStatus.DRAFT):
            _refuse_while_balloting(roadmap, "A ballot on this roadmap is open; its planned dates are frozen.")
    before = _milestone_snapshot(milestone)
    for name, value in fields.items():
        setattr(milestone, name, value)
    milestone.full_clean()
    milestone.save()
    if depends_on is not None:
        _set_dependencies(milestone, depends_on)
    record_event(actor, "milestone.updated", milestone, before=before, after=_milestone_snapshot(milestone))
    return milestone


# --- Progress reports ----------------------------------------------------------------------


def can_report(user: User | None, initiative: Initiative) -> bool:
    """Program managers file any initiative's reports; an owner files their own."""
    return can_plan(user) or bool(user and user.is_authenticated and initiative.owner_id == user.pk)


def initiative_evidence(initiative: Initiative, today: datetime.date | None = None) -> evidence.Evidence:
    """The evidence-based RAG of one initiative now (for several at once, see roadmap.selectors)."""
    today = today or timezone.localdate()
    milestones = list(initiative.milestones.with_schedule())
    burn = evidence.credit_burns({initiative.pk: initiative.charters.values_list("pk", flat=True)})[initiative.pk]
    return evidence.evidence_rag(evidence.inputs_from_milestones(milestones, today=today, credit_burn=burn))


def _report_snapshot(report: ProgressReport) -> dict:
    return snapshot(report, ["initiative", *REPORT_FIELDS, "evidence_rag"])


@transaction.atomic
def submit_report(actor: User, *, initiative: Initiative, **fields: Any) -> ProgressReport:
    """File an initiative's report for a period; the evidence-based RAG of the moment is kept
    beside the reported one."""
    require(can_report(actor, initiative), "Only program managers and the initiative's owner file its reports.")
    report = ProgressReport(initiative=initiative, author=actor, **_pick(fields, REPORT_FIELDS))
    found = initiative_evidence(initiative)
    report.evidence_rag, report.evidence_reasons = found.rag, found.reasons
    report.full_clean()
    report.save()
    record_event(actor, "progress_report.submitted", report, after=_report_snapshot(report))
    return report


@transaction.atomic
def update_report(actor: User, report: ProgressReport, **fields: Any) -> ProgressReport:
    """Correct a report; its initiative and period stay, and the evidence is taken again."""
    report = ProgressReport.objects.select_for_update().select_related("initiative").get(pk=report.pk)
    require(can_report(actor, report.initiative), "Only program managers and the initiative's owner file its reports.")
    if "initiative" in fields and fields["initiative"].pk != report.initiative_id:
        raise ValidationError({"initiative": "A report stays with its initiative."})
    if "period_start" in fields and fields["period_start"] != report.period_start:
        raise ValidationError({"period_start": "A report stays with its period; file one for the other period."})
    before = _report_snapshot(report)
    for name, value in _pick(fields, REPORT_FIELDS).items():
        setattr(report, name, value)
    found = initiative_evidence(report.initiative)
    report.evidence_rag, report.evidence_reasons = found.rag, found.reasons
    report.full_clean()
    report.save()
    record_event(actor, "progress_report.updated", report, before=before, after=_report_snapshot(report))
    return report


def report_due(initiative: Initiative, today: datetime.date | None = None) -> planning.ReportDue | None:
    """The report the initiative owes next (its `reports` may be prefetched)."""
    return planning.next_report_due(
        cadence=initiative.report_cadence,
        starts_on=initiative.starts_on,
        reported={report.period_start for report in initiative.reports.all()},
        today=today or timezone.localdate(),
        due_days=settings.ROADMAP_REPORT_DUE_DAYS,
    )


@transaction.atomic
def send_report_reminders(today: datetime.date | None = None) -> list[ReportReminder]:
    """Remind each owner, once per period, when a report of an initiative of the approved
    roadmap falls due within ROADMAP_REPORT_REMINDER_DAYS. The email goes after commit."""
    today = today or timezone.localdate()
    window = settings.ROADMAP_REPORT_REMINDER_DAYS
    initiatives = (
        Initiative.objects.filter(roadmaps__status=RoadmapStatus.APPROVED, owner__isnull=False)
        .distinct()
        .prefetch_related(Prefetch("reports", queryset=ProgressReport.objects.only("initiative_id", "period_start")))
    )
    claimed = []
    for initiative in initiatives:
        due = report_due(initiative, today)
        if due is None or due.overdue or due.days_left > window:
            continue
        reminder, created = ReportReminder.objects.get_or_create(
            initiative=initiative,
            period_start=due.period.start,
            defaults={"due_on": due.due_on, "recipient_id": initiative.owner_id},
        )
        if created:
            claimed.append(reminder)
            enqueue("roadmap.tasks.email_report_reminder", reminder.pk)
    return claimed


def email_report_reminder(reminder_id: int) -> bool:
    """Send one claimed reminder; a second run sends nothing. False when already sent."""
    with transaction.atomic():
        claimed = ReportReminder.objects.filter(pk=reminder_id, sent_at__isnull=True).update(sent_at=timezone.now())
        if not claimed:
            return False
        reminder = ReportReminder.objects.select_related("initiative", "recipient").get(pk=reminder_id)
        period = planning.period_containing(reminder.period_start, reminder.initiative.report_cadence)
        path = reverse("roadmap:report-create", args=[reminder.initiative_id])
        # If sending fails the claim rolls back with it, and the task's retry sends it again.
        send_mail(
            subject=f"Progress report due {reminder.due_on:%d %B %Y}: {reminder.initiative}",
            message=(
                f"Hello {reminder.recipient},\n\n"
                f"The {period.label} progress report of '{reminder.initiative}' is due on "
                f"{reminder.due_on:%A %d %B %Y}.\n\nFile it at {settings.SITE_URL.rstrip('/')}{path}\n\n"
                "The portal shows its own evidence-based RAG beside the one you report.\n"
            ),
            from_email=None,
            recipient_list=[reminder.recipient.email],
        )
    return True


# --- Calendar feeds ------------------------------------------------------------------------


@transaction.atomic
def issue_calendar_feed(actor: User) -> str:
    """Issue (or replace) the person's secret feed token and return it; only its hash is kept,
    so the feed address can be shown this once."""
    require(in_the_body(actor), "Only people of the body have a roadmap calendar.")
    token = secrets.token_urlsafe(32)
    feed, _ = CalendarFeed.objects.update_or_create(
        user=actor,
        defaults={"token_hash": CalendarFeed.hash_token(token), "created_at": timezone.now(), "last_used_at": None},
    )
    record_event(actor, "calendar_feed.issued", feed)
    return token


@transaction.atomic
def revoke_calendar_feed(actor: User) -> None:
    """Stop the person's feed: the old address answers 404 from now on."""
    feed = CalendarFeed.objects.filter(user=actor).first()
    if feed is not None:
        record_event(actor, "calendar_feed.revoked", feed)
        CalendarFeed.objects.filter(pk=feed.pk).delete()


def calendar_feed_user(token: str) -> User | None:
    """Whose feed a token opens: an active person still in the body, else nobody."""
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=CalendarFeed.hash_token(token)).first()
    if feed is None or not in_the_body(feed.user):
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed.user
