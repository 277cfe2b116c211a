"""Milestones: their dates and progress, and the dependencies between them (never a cycle)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from governance.audit import record_event, snapshot
from governance.exceptions import DomainError
from governance.models import User
from roadmap import planning
from roadmap.choices import (
    RoadmapStatus,
)
from roadmap.models import (
    Milestone,
    MilestoneDependency,
)
from roadmap.permissions import require_planner
from roadmap.services.baselines import refuse_while_balloting
from roadmap.services.fields import ids, pick

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


# Any constant will do: it names the one lock that serializes changes to the dependency graph,
# so two concurrent edits cannot each add half of a cycle.
_DEPENDENCY_LOCK_KEY = 7_342_101


def _milestone_snapshot(milestone: Milestone) -> dict:
    return {**snapshot(milestone, MILESTONE_FIELDS), "depends_on": ids(milestone.depends_on.all())}


def _lock_dependency_graph() -> None:
    """Serialize changes to the dependency graph until the transaction ends (PostgreSQL; SQLite's
    write lock, taken at BEGIN, already does). Taken before any row lock, so two edits never
    wait on each other in opposite orders."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_DEPENDENCY_LOCK_KEY])


def _set_dependencies(milestone: Milestone, depends_on: Iterable[Milestone]) -> None:
    """Replace the milestone's dependencies, refusing one that would close a cycle."""
    wanted = set(ids(depends_on))
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
    require_planner(actor)
    milestone = Milestone(**pick(fields, MILESTONE_FIELDS))
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
    require_planner(actor)
    if depends_on is not None:
        _lock_dependency_graph()
    # NO KEY UPDATE: other transactions may still insert rows that refer to this milestone.
    milestone = Milestone.objects.select_for_update(no_key=True).get(pk=milestone.pk)
    fields = pick(fields, MILESTONE_FIELDS)
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
            refuse_while_balloting(roadmap, "A ballot on this roadmap is open; its planned dates are frozen.")
    before = _milestone_snapshot(milestone)
    for name, value in fields.items():
        setattr(milestone, name, value)
    milestone.full_clean()
    milestone.save()
    if depends_on is not None:
        _set_dependencies(milestone, depends_on)
    record_event(actor, "milestone.updated", milestone, before=before, after=_milestone_snapshot(milestone))
    return milestone
