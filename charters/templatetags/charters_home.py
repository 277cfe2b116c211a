"""The charters app's part of the home inbox: the signed-in person's own charter work.

A drafter sees their own drafts; a secretary the submitted charters whose review they start;
a reviewer (a seat on the committee, from an organization not party to the charter) the
reviews still to record; an organization's signatory the agreements waiting for its
signature and those of its agreements that expired. A fixed number of queries.
"""

from __future__ import annotations

from django import template
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce

from charters.choices import EDITABLE_STATUSES, CharterStatus, ReviewKind, VersionStatus
from charters.models import Charter, CharterStepConsent, CharterVersion, DataUseAgreement, TechnicalReview
from charters.permissions import REVIEWER_ROLES
from governance.choices import Role
from governance.models import Membership
from governance.selectors import own_seats

register = template.Library()


def reviews_to_record(user, seats: list[tuple[int, str]]) -> list[dict]:
    """Charters under review in committees where the person may review, whose proposed version
    still lacks a review of some kind, with the kinds missing: the ten longest waiting.

    Chosen in SQL (not party to the charter, a kind still missing), so the cost does not grow
    with the number of charters under review."""
    committees = {committee_id for committee_id, role in seats if role in REVIEWER_ROLES}
    if not committees:
        return []
    kinds_done = (
        TechnicalReview.objects.filter(version=OuterRef("pk"), kind__in=ReviewKind.values)
        .order_by()
        .values("version")
        .annotate(n=Count("kind"))
        .values("n")
    )
    lacking = (
        CharterVersion.objects.filter(charter=OuterRef("pk"), status=VersionStatus.PROPOSED)
        .annotate(done=Coalesce(Subquery(kinds_done), 0))
        .filter(done__lt=len(ReviewKind.values))
    )
    charters = (
        Charter.objects.visible_to(user)
        .filter(committee_id__in=committees)
        .filter(
            Q(status=CharterStatus.UNDER_REVIEW)
            | Exists(
                CharterVersion.objects.filter(charter=OuterRef("pk"), status=VersionStatus.PROPOSED, is_amendment=True)
            )
        )
        .filter(Exists(lacking))
    )
    if user.organization_id:
        charters = charters.exclude(lead_organization_id=user.organization_id).exclude(
            Exists(
                Charter.participating_organizations.through.objects.filter(
                    charter=OuterRef("pk"), organization_id=user.organization_id
                )
            )
        )
    proposed = CharterVersion.objects.filter(status=VersionStatus.PROPOSED).prefetch_related("reviews")
    charters = charters.prefetch_related(Prefetch("versions", queryset=proposed, to_attr="proposed")).order_by(
        "updated_at"
    )[:10]
    rows = []
    for charter in charters:
        version = charter.proposed[-1]
        done = {review.kind for review in version.reviews.all()}
        missing = [label for value, label in ReviewKind.choices if value not in done]
        rows.append({"charter": charter, "version": version, "missing": missing})
    return rows


@register.inclusion_tag("charters/_home_panel.html", takes_context=True)
def charters_home_panel(context):
    """My drafts, charters whose review I start, reviews I may record, agreements I sign."""
    request = context["request"]
    user = request.user
    if not user.is_authenticated:
        return {"user": user}
    visible = Charter.objects.visible_to(user).select_related("lead_organization", "committee")
    seats = own_seats(request)
    secretary_of = [committee_id for committee_id, role in seats if role == Role.SECRETARY]
    awaiting_review = []
    if secretary_of:
        awaiting_review = list(
            visible.filter(status=CharterStatus.SUBMITTED, committee_id__in=secretary_of).order_by("updated_at")[:10]
        )
    to_sign, expired = [], []
    if user.organization_id and user.signatory_for.filter(pk=user.organization_id).exists():
        for agreement in DataUseAgreement.objects.with_signatures().filter(parties=user.organization_id):
            if not any(p.pk == user.organization_id for p in agreement.unsigned_parties()):
                continue
            (expired if agreement.is_expired() else to_sign).append(agreement)
    # Suspend, resume or terminate asked for by another sector's co-chair, waiting for mine.
    chair_seats = Membership.objects.active().filter(user=user, role=Role.CHAIR)
    steps_to_join = []
    if any(role == Role.CHAIR for _, role in seats):
        steps_to_join = list(
            CharterStepConsent.objects.filter(
                closed_at__isnull=True, charter__committee__in=chair_seats.values("committee")
            )
            .exclude(sector__in=chair_seats.values("organization__sector"))
            .select_related("charter", "given_by")
            .order_by("given_at")[:10]
        )
    return {
        "user": user,
        "steps_to_join": steps_to_join,
        "drafts": list(visible.filter(created_by=user, status__in=EDITABLE_STATUSES).order_by("-updated_at")[:10]),
        "awaiting_review": awaiting_review,
        "reviews": reviews_to_record(user, seats),
        "to_sign": sorted(to_sign, key=lambda a: a.expires_on),
        "expired": expired,
    }
