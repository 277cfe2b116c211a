"""The compute app's panel on the home page: what needs the signed-in person's attention."""

from django import template

from compute import selectors

register = template.Library()


@register.inclusion_tag("compute/_home_panel.html", takes_context=True)
def compute_home_panel(context):
    user = context["request"].user
    return {"user": user, "credits": selectors.credits_panel(user)}
