"""Template filters of the credit pages."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def credits(value) -> str:
    """Credits for reading: thousands separated, two decimals only when there are any."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value).quantize(Decimal("0.01"))
    text = f"{amount:,.2f}"
    return text[:-3] if text.endswith(".00") else text


@register.filter
def negate(value):
    return -value if value is not None else None
