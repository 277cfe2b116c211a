"""Form fields every app's forms share: choices of rows by id, parsed strictly.

A model choice is an id typed or sent by the browser. Django hands whatever arrives to the
database (`²`, which `str.isdigit()` accepts, or an id past 2^63 that overflows the driver in an
IN list); these fields refuse such values first, with the field's own "not a valid choice"
message, and bound how many ids one multi-select may carry.
"""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from governance import values


class StrictIdsMixin:
    """Ids as ASCII digits within the table's range, where the choice is by an integer key
    (the primary key, or `to_field_name` naming one); choices by a slug are left alone."""

    def _strict(self, value):
        if value in self.empty_values or not self._by_integer():  # type: ignore[attr-defined]
            return value
        try:
            return values.parse_id(value)
        except ValidationError as error:
            raise ValidationError(
                self.error_messages["invalid_choice"],  # type: ignore[attr-defined]
                code="invalid_choice",
                params={"value": values.printable(value)},
            ) from error

    def _by_integer(self) -> bool:
        meta = self.queryset.model._meta  # type: ignore[attr-defined]
        name = getattr(self, "to_field_name", None)
        key = meta.get_field(name) if name else meta.pk
        return isinstance(key, models.IntegerField | models.AutoField)


class IdChoiceField(StrictIdsMixin, forms.ModelChoiceField):
    def to_python(self, value):
        return super().to_python(self._strict(value))


class IdMultipleChoiceField(StrictIdsMixin, forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        limit = settings.MAX_LIST_ITEMS
        if len(value) > limit:
            raise ValidationError(f"Choose at most {limit:,}.", code="too_many")
        return super()._check_values([self._strict(item) for item in value])


class AsciiNumberMixin:
    """A number typed with ASCII digits only: Python's int() and Decimal() also read "١٢٣" and
    full-width digits, which nobody means as an amount."""

    def to_python(self, value):
        if isinstance(value, str) and not value.isascii():
            raise ValidationError(self.error_messages["invalid"], code="invalid")  # type: ignore[attr-defined]
        return super().to_python(value)  # type: ignore[misc]


class AsciiIntegerField(AsciiNumberMixin, forms.IntegerField):
    pass


class AsciiDecimalField(AsciiNumberMixin, forms.DecimalField):
    pass


class AsciiFloatField(AsciiNumberMixin, forms.FloatField):
    pass


# Django's fields, by the strict one that takes their place.
STRICT = {
    forms.ModelChoiceField: IdChoiceField,
    forms.ModelMultipleChoiceField: IdMultipleChoiceField,
    forms.IntegerField: AsciiIntegerField,
    forms.DecimalField: AsciiDecimalField,
    forms.FloatField: AsciiFloatField,
}


class StrictIdsFormMixin:
    """Every model choice of the form, declared or generated from a ForeignKey, parses ids
    strictly, and every number takes ASCII digits only. The strict classes add methods only,
    so an existing field takes one on as it is (its queryset, widget and labels kept) instead
    of being rebuilt."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            if type(field) in STRICT:
                field.__class__ = STRICT[type(field)]
            if isinstance(field, forms.DateField | forms.DateTimeField):
                # A typo like 9999 or 1900 is refused beside the field, with the other errors.
                field.validators.append(in_sane_range)
                if isinstance(field, forms.DateField):
                    field.widget.attrs.setdefault("min", values.EARLIEST.isoformat())
                    field.widget.attrs.setdefault("max", values.LATEST.isoformat())


def in_sane_range(value) -> None:
    """Refuse a date (or a moment) outside the portal's horizon, 2000 to 2100."""
    day = value.date() if isinstance(value, datetime.datetime) else value
    if day is not None and not (values.EARLIEST <= day <= values.LATEST):
        raise ValidationError(
            f"Enter a date between {values.EARLIEST.year} and {values.LATEST.year}; {day.year} is outside that range.",
            code="date_out_of_range",
        )


def narrow(field: forms.ModelChoiceField, queryset) -> None:
    """Give a required choice its queryset; with exactly one option there is no empty
    "---------" line to pick, the one option is chosen."""
    field.queryset = queryset
    if field.required and queryset.count() == 1:
        field.empty_label = None


class PortalForm(StrictIdsFormMixin, forms.Form):
    """The base of every form of the portal."""


class PortalModelForm(StrictIdsFormMixin, forms.ModelForm):
    """The base of every model form of the portal."""
