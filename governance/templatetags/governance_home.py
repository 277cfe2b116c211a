"""The governance app's panel on the home page: what needs the signed-in person's attention."""

from django import template

from governance.models import Ballot

register = template.Library()


@register.inclusion_tag("governance/_home_panel.html", takes_context=True)
def governance_home_panel(context):
    """Ballots waiting for the person's vote, and deadlocks waiting for a second ballot."""
    user = context["request"].user
    waiting = list(Ballot.objects.waiting_for(user).select_related("committee").order_by("closes_at", "opened_at"))
    deadlocks = list(
        Ballot.objects.visible_to(user).unresolved_deadlocks().select_related("committee").order_by("-closed_at")
    )
    return {"user": user, "waiting": waiting, "deadlocks": deadlocks}
