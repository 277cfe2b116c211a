"""Filters of charter lists, shared by the API and the pages so both filter the same way."""

from __future__ import annotations

import django_filters

from charters.choices import CharterStatus, DataClassification, IPFramework
from charters.models import Charter
from governance.api.filters import PortalFilterSet
from governance.choices import Sector


class CharterFilter(PortalFilterSet):
    status = django_filters.ChoiceFilter(choices=CharterStatus.choices, empty_label="Any status")
    lead_sector = django_filters.ChoiceFilter(
        field_name="lead_organization__sector",
        choices=Sector.choices,
        label="Sector of the lead organization",
        empty_label="Any sector",
    )
    ip_framework = django_filters.ChoiceFilter(
        choices=IPFramework.choices, label="IP framework", empty_label="Any IP framework"
    )
    data_classification = django_filters.ChoiceFilter(
        choices=DataClassification.choices, label="Data classification", empty_label="Any classification"
    )
    q = django_filters.CharFilter(method="search", label="Title contains")

    class Meta:
        model = Charter
        fields = ["status", "lead_sector", "ip_framework", "data_classification", "committee", "lead_organization"]

    def search(self, queryset, name, value):
        return queryset.filter(title__icontains=value.strip()) if value.strip() else queryset
