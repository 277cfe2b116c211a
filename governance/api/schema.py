"""The OpenAPI schema of the API: drf-spectacular's, saying where a blank string is allowed."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

FORMATS_WITH_A_BLANK = ("uri", "email")


class PortalAutoSchema(AutoSchema):
    def _insert_field_validators(self, field, schema):
        # Runs last for a field (its validators add the format too), so the change sticks.
        super()._insert_field_validators(field, schema)
        if getattr(field, "allow_blank", False) and schema.get("format") in FORMATS_WITH_A_BLANK:
            # An optional website or e-mail address left blank is "", which is no URI or
            # address: a client that checks formats must still take it.
            schema["anyOf"] = [{"format": schema.pop("format")}, {"maxLength": 0}]
