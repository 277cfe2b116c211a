"""The charters app's panel on the home page: what needs the signed-in person's attention."""

from __future__ import annotations

from django import template
from django.db.models import Q

from charters.choices import EDITABLE_STATUSES, CharterStatus, VersionStatus
from charters.models import Charter, DataUseAgreement
from governance.choices import Role
from governance.models import Membership

register = template.Library()


@register.inclusion_tag("charters/_home_panel.html", takes_context=True)
def charters_home_panel(context):
    """My drafts, charters waiting for the secretary or for reviews, and agreements waiting for
    my organization's signature."""
    user = context["request"].user
    if not user.is_authenticated:
        return {"user": user}
    visible = Charter.objects.visible_to(user).select_related("lead_organization")
    mine = Q(created_by=user)
    if user.organization_id:
        mine |= Q(lead_organization_id=user.organization_id)
    roles = set(Membership.objects.active().filter(user=user).values_list("role", flat=True))
    awaiting_review = []
    if roles & {Role.SECRETARY}:
        awaiting_review = list(visible.filter(status=CharterStatus.SUBMITTED).order_by("updated_at")[:10])
    in_review = []
    if roles & {Role.CHAIR, Role.MEMBER, Role.SECRETARY}:
        in_review = list(
            visible.filter(
                Q(status=CharterStatus.UNDER_REVIEW)
                | Q(versions__status=VersionStatus.PROPOSED, versions__is_amendment=True)
            )
            .distinct()
            .order_by("updated_at")[:10]
        )
    to_sign = []
    if user.organization_id:
        to_sign = [
            agreement
            for agreement in DataUseAgreement.objects.with_signatures().filter(parties=user.organization_id)
            if not agreement.is_expired() and any(p.pk == user.organization_id for p in agreement.unsigned_parties())
        ]
    return {
        "user": user,
        "drafts": list(visible.filter(mine, status__in=EDITABLE_STATUSES).order_by("-updated_at")[:10]),
        "awaiting_review": awaiting_review,
        "in_review": in_review,
        "to_sign": to_sign,
        "expired": DataUseAgreement.objects.filter(expired_flagged_at__isnull=False).count(),
    }
