"""The roadmap app's panel on the home page: what needs the signed-in person's attention.

Program managers see every report falling due, the milestones that slipped most, and the
versions and re-baselinings waiting to go to a ballot; an initiative's owner sees the reports
they owe. Nobody else's work: a member with nothing to do here sees no roadmap panel.
"""

from django import template
from django.conf import settings

from roadmap import permissions, selectors
from roadmap.choices import RebaselineStatus, RoadmapStatus
from roadmap.models import Roadmap

register = template.Library()


@register.inclusion_tag("roadmap/_home_panel.html", takes_context=True)
def roadmap_home_panel(context):
    user = context["request"].user
    if not permissions.may_read_roadmap(user):
        return {"show": False}
    roadmap = selectors.current_roadmap(user)
    panel = {"show": False, "roadmap": roadmap}
    if roadmap is None:
        return panel
    planner = permissions.may_plan(user)
    # Only what the next report's date needs: the panel reads every initiative of the roadmap
    # and every period reported on, as plain values rather than model instances.
    initiatives = roadmap.initiatives.only("title", "report_cadence", "starts_on").order_by("title")
    if not planner:
        initiatives = initiatives.filter(owner=user)
    initiatives = list(initiatives)
    reported = selectors.reported_periods(initiatives)
    window = settings.ROADMAP_REPORT_REMINDER_DAYS
    due = [(i, selectors.report_due(i, reported=reported[i.pk])) for i in initiatives]
    panel["due"] = [(i, d) for i, d in due if d is not None and (d.overdue or d.days_left <= window)]
    if planner:
        panel["slipped"] = selectors.slipped_milestones(roadmap)
        panel["drafts"] = Roadmap.objects.filter(committee_id=roadmap.committee_id, status=RoadmapStatus.DRAFT).count()
        panel["pending"] = roadmap.rebaseline_requests.filter(status=RebaselineStatus.PROPOSED).first()
    panel["show"] = bool(panel["due"] or panel.get("slipped") or panel.get("drafts") or panel.get("pending"))
    return panel
