"""The roadmap app's panel on the home page: what needs the signed-in person's attention."""

from django import template

register = template.Library()


@register.inclusion_tag("roadmap/_home_panel.html", takes_context=True)
def roadmap_home_panel(context):
    return {"user": context["request"].user}
