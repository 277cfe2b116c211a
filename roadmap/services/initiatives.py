"""Initiatives, and the themes they are filed under."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from governance.audit import record_event, snapshot
from governance.models import User
from roadmap.models import (
    Initiative,
    Roadmap,
    Theme,
)
from roadmap.permissions import require_planner
from roadmap.services.fields import ids, pick
from roadmap.services.roadmaps import update_roadmap

INITIATIVE_FIELDS = [
    "title",
    "summary",
    "national_impact_score",
    "priority",
    "owner",
    "starts_on",
    "report_cadence",
]


@transaction.atomic
def create_theme(actor: User | None, *, name: str, slug: str) -> Theme:
    """Add a strand of the roadmap that initiatives can be filed under."""
    require_planner(actor)
    theme = Theme(name=name, slug=slug)
    theme.full_clean()
    theme.save()
    record_event(actor, "theme.created", theme, after={"name": name, "slug": slug})
    return theme


def _initiative_snapshot(initiative: Initiative) -> dict:
    return {
        **snapshot(initiative, INITIATIVE_FIELDS),
        "themes": ids(initiative.themes.all()),
        "sponsors": ids(initiative.sponsors.all()),
        "charters": ids(initiative.charters.all()),
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
    require_planner(actor)
    initiative = Initiative(**pick(fields, INITIATIVE_FIELDS), created_by=actor)
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
    require_planner(actor)
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)
    before = _initiative_snapshot(initiative)
    for name, value in pick(fields, INITIATIVE_FIELDS).items():
        setattr(initiative, name, value)
    initiative.full_clean()
    initiative.save()
    _set_relations(initiative, {"themes": themes, "sponsors": sponsors, "charters": charters})
    record_event(actor, "initiative.updated", initiative, before=before, after=_initiative_snapshot(initiative))
    return initiative
