"""Pages about the body itself: the home page, organizations, committees and their seats."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from governance import permissions, services, web
from governance.choices import Sector
from governance.forms import MembershipChangeForm
from governance.models import Committee, Membership, MembershipChange, Organization
from governance.powers import Needs, powers_table
from governance.services import seats as seats_service


# The parts of the home inbox, each app's own: (the panel's function, its template).
def _inbox_parts():
    from charters.templatetags.charters_home import charters_home_panel
    from compute.templatetags.compute_home import compute_home_panel
    from governance.templatetags.governance_home import governance_home_panel, record_home_panel
    from roadmap.templatetags.roadmap_home import roadmap_home_panel

    return [
        (governance_home_panel, "governance/_home_panel.html"),
        (record_home_panel, "governance/_record_panel.html"),
        (compute_home_panel, "compute/_home_panel.html"),
        (charters_home_panel, "charters/_home_panel.html"),
        (roadmap_home_panel, "roadmap/_home_panel.html"),
    ]


def home(request: HttpRequest) -> HttpResponse:
    """The signed-in person's inbox: each app's panel lists only this person's own work, each
    item with its deadline; below it, their seats and the committees. A visitor who is not
    signed in gets the public home, with a sign-in link."""
    if not request.user.is_authenticated:
        from governance.public.views.home import home as public_home

        return public_home(request)
    parts, context = [], {}
    for panel, template_name in _inbox_parts():
        values = panel({"request": request})
        context.update({k: v for k, v in values.items() if k not in context})
        html = render_to_string(template_name, values, request=request).strip()
        if html:
            parts.append(html)
    memberships = (
        Membership.objects.active()
        .filter(user=request.user)
        .select_related("committee", "organization")
        .order_by("committee__name")
    )
    committees = Committee.objects.visible_to(request.user).with_active_memberships()
    return render(
        request,
        "home.html",
        {**context, "inbox": mark_safe("\n".join(parts)), "memberships": memberships, "committees": committees},  # noqa: S308 -- the panels' own rendered templates
    )


def powers(request: HttpRequest) -> HttpResponse:
    """Who may do what (DESIGN.md 2.7), for everyone, signed in or not: the table the
    portal's own rules are checked against."""
    rows = powers_table()
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["act"].split(".")[0], []).append(row)
    return render(request, "governance/powers.html", {"groups": groups, "needs": Needs})


@login_required
def organization_list(request: HttpRequest) -> HttpResponse:
    organizations = Organization.objects.visible_to(request.user).order_by("sector", "name")
    by_sector = {label: [o for o in organizations if o.sector == value] for value, label in Sector.choices}
    return render(request, "governance/organization_list.html", {"by_sector": by_sector})


@login_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = get_object_or_404(Organization.objects.visible_to(request.user), pk=pk)
    seats = (
        Membership.objects.active()
        .filter(organization=organization)
        .select_related("committee", "user")
        .order_by("committee__name", "role")
    )
    return render(request, "governance/organization_detail.html", {"organization": organization, "seats": seats})


@login_required
def committee_list(request: HttpRequest) -> HttpResponse:
    committees = Committee.objects.visible_to(request.user).with_active_memberships()
    return render(request, "governance/committee_list.html", {"committees": committees})


@login_required
def committee_detail(request: HttpRequest, pk: int) -> HttpResponse:
    committee = get_object_or_404(Committee.objects.visible_to(request.user).with_active_memberships(), pk=pk)
    labels = dict(Sector.choices)
    seats = committee.seats_by_sector()
    sectors = [
        {
            "value": sector,
            "label": labels.get(sector, sector),
            "counts": counts,
            "members": [m for m in committee.active_memberships if m.organization.sector == sector],
        }
        for sector, counts in seats.items()
    ]
    changes = list(
        MembershipChange.objects.visible_to(request.user)
        .filter(committee=committee)
        .select_related("user", "organization", "membership__user", "proposed_by")
        .prefetch_related("consented_by")[:20]
    )
    seat = permissions.co_chair_seat(request.user, committee)
    for change in changes:
        change.needed = sorted(seats_service.sectors_needed(change))
        change.consented = sorted(seats_service.sectors_consented(change))
        # Offered to a co-chair only where their sector's consent is still missing.
        change.can_consent = (
            seat is not None
            and seat.organization.sector in change.needed
            and seat.organization.sector not in change.consented
        )
    may_propose = not committee.bootstrapping and seats_service.proposer_seat(request.user, committee) is not None
    return render(
        request,
        "governance/committee_detail.html",
        {
            "committee": committee,
            "sectors": sectors,
            "problems": committee.constitution_problems(),
            "changes": changes,
            "co_chair_seat": seat,
            "change_form": MembershipChangeForm(committee=committee) if may_propose else None,
        },
    )


@login_required
@require_POST
def membership_change_propose(request: HttpRequest, pk: int) -> HttpResponse:
    """A co-chair or the secretary proposes a seat change; it waits for the co-chairs' consent."""
    committee = get_object_or_404(Committee.objects.visible_to(request.user), pk=pk)
    form = MembershipChangeForm(request.POST, committee=committee)
    if form.is_valid():
        try:
            services.propose_membership_change(request.user, committee=committee, **form.cleaned_data)
        except web.REFUSALS as error:
            web.refuse(request, error)
        else:
            messages.success(request, "The change is proposed; it is applied once the co-chairs it needs consent.")
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("committee-detail", committee.pk)


@login_required
@require_POST
def membership_change_act(request: HttpRequest, pk: int, act: str) -> HttpResponse:
    """Consent to, or withdraw, a proposed seat change."""
    change = get_object_or_404(MembershipChange.objects.visible_to(request.user), pk=pk)
    service = {"consent": services.consent_to_membership_change, "withdraw": services.withdraw_membership_change}
    if act not in service:
        raise Http404("No such act on a seat change.")
    return web.run_act(
        request,
        lambda: service[act](request.user, change),
        success="Your consent is recorded." if act == "consent" else "The change is withdrawn.",
        redirect_to=reverse("committee-detail", args=[change.committee_id]),
    )
