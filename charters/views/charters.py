"""Pages of charters: the list, drafting and editing, the charter page with its lifecycle steps
and ballots, preparing a ballot, and the IP frameworks side by side."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from charters import permissions, selectors
from charters.choices import (
    AMENDABLE_STATUSES,
    BOTH_SECTOR_STEPS,
    CHARTER_TRANSITIONS,
    EDITABLE_STATUSES,
    IP_FRAMEWORK_COMPARISON,
    CharterStatus,
    IPFramework,
    ReviewKind,
    VersionStatus,
)
from charters.filters import CharterFilter
from charters.forms import CharterForm, ReasonForm
from charters.models import Charter, DataUseAgreement, TechnicalReview
from charters.services import charters, lifecycle
from charters.versions import snapshot
from governance import services as governance_services
from governance.choices import BallotStatus, Outcome, Sector, SubjectType
from governance.exceptions import DomainError
from governance.models import Ballot
from governance.models.ballots import tallies_for
from governance.pagination import paginate
from governance.permissions import can_prepare_ballots, co_chair_seat
from governance.web import add_service_errors, refuse

CHARTERS_PER_PAGE = 50


def visible_charter(request: HttpRequest, pk: int) -> Charter:
    """The charter, if the person may see it; 404 otherwise (for every charter page)."""
    return get_object_or_404(Charter.objects.visible_to(request.user).for_listing(), pk=pk)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Every charter the person may see, filtered by status, lead sector, IP model, classification."""
    found = CharterFilter(request.GET or None, queryset=Charter.objects.visible_to(request.user).for_listing())
    # A page at a time: a list of every charter grows with the body's history (3,000 charters
    # made a 1 MB page that took 2 s to render; see bench/pages.py).
    page, query = paginate(request, found.qs.order_by("-created_at", "-pk"), CHARTERS_PER_PAGE)
    return render(
        request,
        "charters/charter_list.html",
        {
            "filter": found,
            "page": page,
            "query": query,
            "charters": page.object_list,
            "can_draft": permissions.may_draft(request.user),
        },
    )


@login_required
def charter_create(request: HttpRequest) -> HttpResponse:
    if not permissions.may_draft(request.user):
        raise PermissionDenied("Only staff of a member organization draft charters.")
    form = CharterForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            charter = charters.create_charter(request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Draft saved. Submit it when it is ready for the committee.")
            return redirect("charters:detail", charter.pk)
    return render(request, "charters/charter_form.html", {"form": form, "charter": None})


@login_required
def charter_edit(request: HttpRequest, pk: int) -> HttpResponse:
    charter = visible_charter(request, pk)
    if not permissions.may_edit(request.user, charter):
        raise PermissionDenied("Only the author and people of the lead organization edit this charter.")
    if not charter.is_editable:
        messages.error(request, "Only drafts and charters sent back for revision are edited; propose an amendment.")
        return redirect("charters:detail", charter.pk)
    form = CharterForm(request.POST or None, instance=Charter.objects.get(pk=charter.pk), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            charters.update_charter(request.user, charter, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Charter saved.")
            return redirect("charters:detail", charter.pk)
    return render(request, "charters/charter_form.html", {"form": form, "charter": charter})


def _parties_by_sector(charter: Charter) -> list[dict]:
    parties = [(charter.lead_organization, True)] + [
        (o, False) for o in charter.participating_organizations.all() if o.pk != charter.lead_organization_id
    ]
    return [
        {
            "value": value,
            "label": label,
            "organizations": sorted(((o, lead) for o, lead in parties if o.sector == value), key=lambda p: p[0].name),
        }
        for value, label in Sector.choices
    ]


@login_required
def charter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything about one charter: summary, parties, reviews, agreements, versions, models, ballots."""
    charter = visible_charter(request, pk)
    user = request.user
    versions = list(
        charter.versions.select_related("proposed_by")
        .prefetch_related(Prefetch("reviews", queryset=TechnicalReview.objects.select_related("reviewer")))
        .order_by("number")
    )
    pending = next((v for v in versions if v.status == VersionStatus.PROPOSED), None)
    shown_version = pending or (versions[-1] if versions else None)
    reviews = {r.kind: r for r in shown_version.reviews.all()} if shown_version else {}
    in_review = pending is not None and (charter.status == CharterStatus.UNDER_REVIEW or pending.is_amendment)
    consents = charter.open_step_consents  # prefetched by for_listing, with who gave each
    asked = {(c.step, c.sector) for c in consents}
    seat = co_chair_seat(user, charter.committee)
    my_sector = seat.organization.sector if seat else None
    steps = [
        {
            "transition": t,
            "needs_reason": t.name in lifecycle.REASONED_STEPS,
            "both_sectors": t.name in BOTH_SECTOR_STEPS,
            "asked": [c for c in consents if c.step == t.name],
            "mine": (t.name, my_sector) in asked,
        }
        for t in charter.transitions()
        if permissions.may_take_step(user, charter, t.name)
    ]
    agreements = DataUseAgreement.objects.with_signatures().filter(charters=charter).order_by("title")
    ballots = list(Ballot.objects.visible_to(user).on(charter).order_by("-created_at"))
    tallies = tallies_for(ballots)
    context = {
        "charter": charter,
        "parties_by_sector": _parties_by_sector(charter),
        "steps": steps,
        "ballot_only": [t for t in charter.transitions() if t.name in ("approve", "reject")],
        "versions": versions,
        "pending": pending,
        "shown_version": shown_version,
        "review_rows": [
            {"kind": kind, "label": label, "review": reviews.get(kind)} for kind, label in ReviewKind.choices
        ],
        "in_review": in_review,
        "can_review": in_review and permissions.may_review(user, charter),
        "ballot_problems": selectors.ballot_problems_with(charter, pending) if in_review else [],
        "findings": selectors.sovereignty_findings(pending.content) if in_review else {},
        # While drafting: the warnings the data-sovereignty review and a credit request would
        # raise later (resources abroad, restricted data off trusted execution), said now.
        "early_warnings": [
            finding for found in selectors.sovereignty_findings(snapshot(charter)).values() for finding in found
        ]
        if charter.status in EDITABLE_STATUSES and permissions.may_edit(user, charter)
        else [],
        "agreements": agreements,
        "resources": charter.resources.order_by("name"),
        "models": charter.models.select_related("parent").order_by("name", "version"),
        "can_edit": permissions.may_edit(user, charter),
        "can_amend": permissions.may_edit(user, charter) and charter.status in AMENDABLE_STATUSES,
        "open_ballot": next((b for b in ballots if b.status == BallotStatus.OPEN), None),
        "ballot_sectors": [label for _, label in Sector.choices],
        "ballots": [
            {
                "ballot": b,
                "tally": tallies[b.pk],
                "provisional": dict(Outcome.choices).get((tallies[b.pk] or {}).get("outcome"), "—"),
                "sectors": [
                    (label, (tallies[b.pk] or {}).get("sectors", {}).get(value)) for value, label in Sector.choices
                ],
            }
            for b in ballots
        ],
        "can_prepare_ballot": in_review
        and can_prepare_ballots(user, charter.committee)
        and not any(b.status in (BallotStatus.DRAFT, BallotStatus.OPEN) for b in ballots),
    }
    return render(request, "charters/charter_detail.html", context)


@login_required
@require_POST
def prepare_ballot(request: HttpRequest, pk: int) -> HttpResponse:
    """Prepare a draft ballot on the version before the committee, then go to the ballot."""
    charter = visible_charter(request, pk)
    version = selectors.pending_version(charter)
    if version is not None and version.is_amendment:
        title = f"Approve amendment (version {version.number}) of the charter “{charter.title}”"
    else:
        title = f"Approve the charter “{charter.title}”"
    try:
        ballot = governance_services.create_ballot(
            request.user,
            committee=charter.committee,
            title=title[:200],
            subject_type=SubjectType.CHARTER,
            subject_id=charter.pk,
        )
    except (DomainError, ValidationError, PermissionDenied) as error:
        refuse(request, error)
        return redirect("charters:detail", charter.pk)
    messages.success(request, "Ballot prepared as a draft: a co-chair opens it.")
    return redirect("ballots:detail", ballot.pk)


@login_required
@require_POST
def charter_step(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Take one lifecycle step from the charter page."""
    charter = visible_charter(request, pk)
    if name not in CHARTER_TRANSITIONS or name in ("approve", "reject"):
        raise Http404("No such step.")
    kwargs = {}
    if name in lifecycle.REASONED_STEPS:
        form = ReasonForm(request.POST)
        form.is_valid()
        kwargs["reason"] = form.cleaned_data.get("reason", "")
    before = charter.status
    try:
        charter = lifecycle.TRANSITION_SERVICES[name](request.user, charter, **kwargs)
    except (DomainError, ValidationError, PermissionDenied) as error:
        refuse(request, error)
    else:
        if name in BOTH_SECTOR_STEPS and charter.status == before:
            messages.success(
                request,
                f"Your request to {name} the charter is recorded: it happens once the co-chair of every "
                "other sector asks for it too. They have been told.",
            )
        else:
            messages.success(
                request,
                f"{CHARTER_TRANSITIONS[name].label}: the charter is now {charter.get_status_display().lower()}.",
            )
    return redirect("charters:detail", charter.pk)


@login_required
@require_POST
def charter_step_withdraw(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """A co-chair takes back their own request to suspend, resume or terminate."""
    charter = visible_charter(request, pk)
    if name not in BOTH_SECTOR_STEPS:
        raise Http404("No such step.")
    try:
        lifecycle.withdraw_step_consent(request.user, charter, name)
    except (DomainError, ValidationError, PermissionDenied) as error:
        refuse(request, error)
    else:
        messages.success(request, f"Your request to {name} the charter is withdrawn.")
    return redirect("charters:detail", charter.pk)


@login_required
def ip_frameworks(request: HttpRequest) -> HttpResponse:
    """The three IP framework models side by side, as the partnership guide compares them."""
    frameworks = IPFramework.choices
    rows = [
        {"dimension": dimension, "cells": [values.get(value) for value, _ in frameworks]}
        for dimension, values in IP_FRAMEWORK_COMPARISON
    ]
    counts = {
        value: Charter.objects.visible_to(request.user)
        .filter(ip_framework=value)
        .exclude(status=CharterStatus.DRAFT)
        .count()
        for value, _ in frameworks
    }
    return render(
        request,
        "charters/ip_frameworks.html",
        {"frameworks": [{"value": v, "label": label, "charters": counts[v]} for v, label in frameworks], "rows": rows},
    )
