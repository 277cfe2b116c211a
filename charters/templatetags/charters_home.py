"""The charters app's panel on the home page: what needs the signed-in person's attention."""

from django import template

register = template.Library()


@register.inclusion_tag("charters/_home_panel.html", takes_context=True)
def charters_home_panel(context):
    return {"user": context["request"].user}
