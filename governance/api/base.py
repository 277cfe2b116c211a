"""What every app's API shares: pagination, one JSON error shape, validation through the model."""

from __future__ import annotations

import copy
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from governance import values
from governance.exceptions import DomainError
from governance.models.base import AppendOnlyError

logger = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def _first_message(errors) -> str:
    """A one-line human summary of DRF's nested error structure."""
    if isinstance(errors, dict):
        for field, value in errors.items():
            message = _first_message(value)
            return message if field in ("non_field_errors", "__all__", "detail") else f"{field}: {message}"
    if isinstance(errors, list) and errors:
        return _first_message(errors[0])
    return str(errors)


def exception_handler(exc, context):
    """Every error is JSON with a human `detail`: 400 bad input, 403, 404, 409 illegal state.

    Django's own ValidationError and PermissionDenied from the services map to 400 and 403;
    DomainError to its status (409); a constraint the database caught first to 409.
    """
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message, "code": exc.code, **exc.extra}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, AppendOnlyError):
        return Response({"detail": str(exc), "code": "append_only"}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, IntegrityError):
        logger.warning("Integrity error answered as 409: %s", exc)
        return Response(
            {"detail": "This change conflicts with existing data.", "code": "conflict"},
            status=status.HTTP_409_CONFLICT,
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data
        response.data = {
            "detail": _first_message(errors),
            "code": "invalid",
            "errors": errors if isinstance(errors, dict) else {"non_field_errors": errors},
        }
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {
            "detail": str(response.data["detail"]),
            "code": getattr(response.data["detail"], "code", "error"),
        }
    return response


class AsciiNumberMixin:
    """A number sent as text with ASCII digits only: int() and Decimal() also read "١٢٣"."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not data.isascii():
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class AsciiIntegerField(AsciiNumberMixin, serializers.IntegerField):
    pass


class AsciiDecimalField(AsciiNumberMixin, serializers.DecimalField):
    pass


class AsciiFloatField(AsciiNumberMixin, serializers.FloatField):
    pass


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by its id, parsed strictly (values.parse_id: "١" is no id 1)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            values.parse_id(data)
        except DjangoValidationError:
            self.fail("does_not_exist", pk_value=values.printable(data))
        return super().to_internal_value(data)


_ASCII_NUMBERS = {
    serializers.IntegerField: AsciiIntegerField,
    serializers.DecimalField: AsciiDecimalField,
    serializers.FloatField: AsciiFloatField,
}


class CleanModelSerializer(serializers.ModelSerializer):
    """Runs the model's own validation (field checks, clean(), named constraints) on input, so
    the API and the forms can never disagree on what is valid. Numbers are read from ASCII
    digits only."""

    serializer_field_mapping = {
        model_field: _ASCII_NUMBERS.get(field, field)
        for model_field, field in serializers.ModelSerializer.serializer_field_mapping.items()
    }
    serializer_related_field = StrictPrimaryKeyRelatedField

    def to_internal_value(self, data):
        # A list of ids is looked up one by one: bound it before any field reads it.
        if isinstance(data, dict):
            limit = settings.MAX_LIST_ITEMS
            for name, value in data.items():
                if isinstance(value, list) and len(value) > limit:
                    raise serializers.ValidationError({name: [f"At most {limit:,} items may be given at once."]})
        return super().to_internal_value(data)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        instance = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in attrs.items():
            field = model._meta.get_field(name)
            if not field.many_to_many:
                setattr(instance, name, value)
        try:
            instance.full_clean(exclude=self.clean_exclude())
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        return attrs

    def clean_exclude(self) -> list[str]:
        """Fields the model checks but this serializer does not take (set by the service)."""
        writable = {name for name, field in self.fields.items() if not field.read_only}
        return [f.name for f in self.Meta.model._meta.concrete_fields if f.name not in writable]
