"""The compute app's panel on the home page: what needs the signed-in person's attention."""

from django import template

from compute import selectors
from governance.selectors import own_seats

register = template.Library()


@register.inclusion_tag("compute/_home_panel.html", takes_context=True)
def compute_home_panel(context):
    request = context["request"]
    user = request.user
    seats = own_seats(request) if user.is_authenticated else None
    return {"user": user, "credits": selectors.credits_panel(user, seats)}
