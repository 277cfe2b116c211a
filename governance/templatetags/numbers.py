"""The portal's one number format, loaded into every template (TEMPLATES builtins).

Credits, counts and sizes all read the same way on every page: thousands separated by a
comma, two decimals only where there are any ("15,000", "7,029.61"), a dash for nothing.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def number(value) -> str:
    """A quantity for reading: "15,000", "7,029.61", "-3,997.49"; "—" when there is none."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"{amount:,.2f}"
    return text[:-3] if text.endswith(".00") else text


@register.filter
def credits(value) -> str:
    """Credits, in the portal's one number format."""
    return number(value)


@register.filter
def negate(value):
    return -value if value is not None else None
