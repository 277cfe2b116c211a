"""The filter backend of every API list: django-filter, with ids checked before they reach SQL.

A filter on a to-many relation (`?charters=1&charters=2`) looks its ids up with an IN list.
Django answers an out-of-range id in an equality lookup with "no such row", but hands it to
the database in an IN list, where SQLite's driver raises OverflowError past 64 bits: a 500
for what is only an unknown id. Those ids are refused here as unknown, with a 400.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models.fields.related import ManyToManyRel, ManyToOneRel
from django_filters import fields
from django_filters.filters import ModelMultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend, FilterSet
from django_filters.rest_framework.filterset import FILTER_FOR_DBFIELD_DEFAULTS


class RelatedIdsField(fields.ModelMultipleChoiceField):
    def _check_values(self, value):
        key = self.to_field_name or "pk"
        target = self.queryset.model._meta.pk if key == "pk" else self.queryset.model._meta.get_field(key)
        low, high = connection.ops.integer_field_range(target.get_internal_type())
        if low is not None or high is not None:
            for item in value if isinstance(value, list | tuple) else [value]:
                try:
                    number = int(item)
                except (TypeError, ValueError):
                    continue  # Django's own check names what is not an id
                if (low is not None and number < low) or (high is not None and number > high):
                    raise ValidationError(
                        self.error_messages["invalid_choice"], code="invalid_choice", params={"value": item}
                    )
        return super()._check_values(value)


class RelatedIdsFilter(ModelMultipleChoiceFilter):
    field_class = RelatedIdsField


class PortalFilterSet(FilterSet):
    """The base of every filter set of the API, declared or generated from `filterset_fields`."""

    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        **{
            field: {**FILTER_FOR_DBFIELD_DEFAULTS[field], "filter_class": RelatedIdsFilter}
            for field in (models.ManyToManyField, ManyToOneRel, ManyToManyRel)
        },
    }


class PortalFilterBackend(DjangoFilterBackend):
    filterset_base = PortalFilterSet
