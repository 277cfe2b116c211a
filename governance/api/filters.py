"""The filter backend of every API list: django-filter, with ids checked before they reach SQL.

A filter on a to-many relation (`?charters=1&charters=2`) looks its ids up with an IN list.
Django answers an out-of-range id in an equality lookup with "no such row", but hands it to
the database in an IN list, where SQLite's driver raises OverflowError past 64 bits: a 500
for what is only an unknown id. Ids of every relation filter are parsed strictly here (ASCII
digits, 1 to 2^63-1: `²` passes `str.isdigit()` but is no id) and refused with a 400.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.fields.related import ManyToManyRel, ManyToOneRel
from django_filters import fields
from django_filters.filters import ModelChoiceFilter, ModelMultipleChoiceFilter, NumberFilter
from django_filters.rest_framework import DjangoFilterBackend, FilterSet
from django_filters.rest_framework.filterset import FILTER_FOR_DBFIELD_DEFAULTS

from governance import values
from governance.fields import StrictIdsMixin


class RelatedIdsField(StrictIdsMixin, fields.ModelMultipleChoiceField):
    """Ids of a to-many filter: ASCII digits in the table's range, at most MAX_LIST_ITEMS."""

    def _check_values(self, value):
        limit = settings.MAX_LIST_ITEMS
        if len(value) > limit:
            raise ValidationError(f"Filter by at most {limit:,} ids at once.", code="too_many")
        return super()._check_values([self._strict(item) for item in value])


class RelatedIdField(StrictIdsMixin, fields.ModelChoiceField):
    """The id of a to-one filter (`?committee=3`), parsed as strictly; `null` still asks for
    the rows without one where the relation may be empty."""

    def to_python(self, value):
        if self.null_label is not None and value == self.null_value:
            return super().to_python(value)
        return super().to_python(self._strict(value))


class RelatedIdFilter(ModelChoiceFilter):
    field_class = RelatedIdField


class RelatedIdsFilter(ModelMultipleChoiceFilter):
    field_class = RelatedIdsField


class IdField(forms.CharField):
    """An id typed into a query string, parsed strictly (values.parse_id)."""

    def to_python(self, value):
        value = super().to_python(value)
        return values.parse_id(value) if value else None


class IdFilter(NumberFilter):
    """A filter by an id reached through a relation (`?roadmap=3`), where a NumberFilter would
    take `1e30` or `١`: a NumberFilter to the schema, strict to the parser."""

    field_class = IdField


class PortalFilterSet(FilterSet):
    """The base of every filter set of the API, declared or generated from `filterset_fields`."""

    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        **{
            field: {**FILTER_FOR_DBFIELD_DEFAULTS[field], "filter_class": RelatedIdsFilter}
            for field in (models.ManyToManyField, ManyToOneRel, ManyToManyRel)
        },
        **{
            field: {**FILTER_FOR_DBFIELD_DEFAULTS[field], "filter_class": RelatedIdFilter}
            for field in (models.ForeignKey, models.OneToOneField, models.OneToOneRel)
        },
    }


class PortalFilterBackend(DjangoFilterBackend):
    filterset_base = PortalFilterSet
