"""Filters of the roadmap API: the timeline's filters (theme, sponsor sector, status) as query
parameters, so a client can ask for what the page shows."""

from __future__ import annotations

import django_filters

from governance.api.filters import IdFilter, PortalFilterSet
from governance.choices import Sector
from roadmap.models import Initiative, Milestone


class InitiativeFilter(PortalFilterSet):
    roadmap = IdFilter(field_name="roadmaps", help_text="A roadmap version's id.")
    theme = django_filters.CharFilter(field_name="themes__slug", distinct=True, help_text="A theme's slug.")
    sector = django_filters.ChoiceFilter(
        field_name="sponsors__sector", choices=Sector.choices, distinct=True, help_text="A sponsor's sector."
    )

    class Meta:
        model = Initiative
        fields = ["roadmaps", "priority", "owner", "report_cadence"]


class MilestoneFilter(PortalFilterSet):
    roadmap = IdFilter(field_name="initiative__roadmaps", help_text="A roadmap version's id.")
    theme = django_filters.CharFilter(field_name="initiative__themes__slug", distinct=True)
    sector = django_filters.ChoiceFilter(
        field_name="initiative__sponsors__sector", choices=Sector.choices, distinct=True
    )

    class Meta:
        model = Milestone
        fields = ["initiative", "status", "initiative__roadmaps"]
