"""Template helpers of the public view."""

from __future__ import annotations

from django import template

from governance.choices import Sector
from governance.transparency.note import b64

register = template.Library()


@register.simple_tag
def sector_choices() -> list[tuple[str, str]]:
    """The sectors, in their fixed order, for table headers."""
    return list(Sector.choices)


@register.filter
def get_item(mapping: dict, key: str):
    """mapping[key], or an empty dict when absent."""
    return (mapping or {}).get(key, {})


@register.filter
def percent(value) -> str:
    """A fraction in [0, 1] as a whole percentage ("–" when unknown)."""
    if value is None or value == "":
        return "–"
    return f"{float(value) * 100:.0f} %"


@register.filter
def salt_b64(salt) -> str:
    """An event's salt as base64, as verify_receipt --salt takes it."""
    return b64(bytes(salt))
