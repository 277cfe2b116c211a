"""Pages of the governance app. They read through each model's `visible_to` and write
through governance.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from guardian.shortcuts import get_objects_for_user

from governance import services
from governance.choices import BallotStatus, Outcome, Sector, VoteChoice, VotingMethod
from governance.exceptions import DomainError
from governance.forms import BallotForm, RecuseForm, VoteForm, apply_errors
from governance.models import Ballot, Committee, Membership, Organization
from governance.models.ballots import member_committee_ids
from governance.models.people import can_administer


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What needs the signed-in person's attention, and the state of their committees."""
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
        {"memberships": memberships, "committees": committees},
    )


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
    return render(
        request,
        "governance/committee_detail.html",
        {"committee": committee, "sectors": sectors, "problems": committee.constitution_problems()},
    )


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and the process manager."""
    try:
        connection.ensure_connection()
        database = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not ready", reported, not raised
        database = "unreachable"
    return JsonResponse(
        {"status": "ok" if database == "ok" else "degraded", "database": database},
        status=200 if database == "ok" else 503,
    )


def _error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": title.lower().replace(" ", "_")}, status=status)
    return render(request, "error.html", {"title": title, "message": message}, status=status)


def bad_request(request, exception=None):
    return _error_page(request, 400, "Bad request", "The request could not be understood.")


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "You do not have permission to see this page."
    return _error_page(request, 403, "Forbidden", message)


def page_not_found(request, exception=None):
    return _error_page(request, 404, "Not found", "There is nothing at this address.")


def server_error(request):
    return _error_page(request, 500, "Server error", "Something went wrong on our side; it has been logged.")


# --- Ballots -------------------------------------------------------------------------------


def _voter_state(ballot: Ballot, user) -> dict:
    """The signed-in person's standing on a ballot, for the list and the ballot page."""
    if getattr(ballot, "my_recused", False):
        return {"code": "recused", "label": "Recused"}
    if getattr(ballot, "my_vote", None):
        return {"code": "voted", "label": f"Voted {VoteChoice(ballot.my_vote).label.lower()}"}
    if getattr(ballot, "my_eligible", False):
        if ballot.status == BallotStatus.OPEN and not ballot.is_past_closing:
            return {"code": "waiting", "label": "Not voted yet"}
        return {"code": "did_not_vote", "label": "Did not vote"}
    return {"code": "not_eligible", "label": "Not a voter"}


def _ballots_for(user):
    return Ballot.objects.visible_to(user).with_voter_state(user).select_related("committee")


@login_required
def ballot_list(request: HttpRequest) -> HttpResponse:
    """Open ballots first (with my vote status), then drafts, then the closed record."""
    ballots = list(_ballots_for(request.user).order_by("-opened_at", "-created_at"))
    for ballot in ballots:
        ballot.voter_state = _voter_state(ballot, request.user)
    groups = [
        ("open", "Open ballots", [b for b in ballots if b.status == BallotStatus.OPEN]),
        ("draft", "Drafts", [b for b in ballots if b.status == BallotStatus.DRAFT]),
        (
            "closed",
            "Closed ballots",
            sorted((b for b in ballots if b.status == BallotStatus.CLOSED), key=lambda b: b.closed_at, reverse=True),
        ),
    ]
    can_prepare = can_administer(request.user) or bool(
        get_objects_for_user(request.user, services.MANAGE_COMMITTEE, klass=Committee, with_superuser=False).exists()
    )
    return render(request, "governance/ballot_list.html", {"groups": groups, "can_prepare": can_prepare})


@login_required
def ballot_create(request: HttpRequest) -> HttpResponse:
    """Prepare a draft ballot (co-chairs, the secretary, administrators)."""
    committees = Committee.objects.visible_to(request.user)
    if not can_administer(request.user):
        committees = get_objects_for_user(
            request.user, services.MANAGE_COMMITTEE, klass=committees, with_superuser=False
        )
    if not committees.exists():
        raise PermissionDenied("Only the co-chairs and the secretary prepare ballots.")
    form = BallotForm(request.POST or None, committees=committees)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ballot = services.create_ballot(
                request.user,
                committee=data["committee"],
                title=data["title"],
                description=data["description"],
                subject_type=data["subject_type"],
                subject_id=data["subject_id"],
                method=data["method"] or None,
                quorum=data["quorum"],
                closes_at=data["closes_at"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The draft ballot is ready; a co-chair opens it.")
            return redirect("ballots:detail", ballot.pk)
    return render(request, "governance/ballot_form.html", {"form": form})


def _tally_context(ballot: Ballot, user) -> dict:
    """What the tally panel shows: the tally when this person may see it, and the chart data."""
    visible = ballot.status == BallotStatus.CLOSED or (
        ballot.status == BallotStatus.OPEN
        and (can_administer(user) or ballot.committee_id in member_committee_ids(user))
    )
    tally = ballot.tally if visible else None
    rows = []
    if tally:
        labels = dict(Sector.choices)
        for sector, row in tally["sectors"].items():
            voted = row["yes"] + row["no"] + row["abstain"]
            rows.append(
                {"sector": sector, "label": labels.get(sector, sector), "not_voted": row["eligible"] - voted, **row}
            )
    chart = {
        "sectors": [r["label"] for r in rows],
        "yes": [r["yes"] for r in rows],
        "no": [r["no"] for r in rows],
        "abstain": [r["abstain"] for r in rows],
        "not_voted": [r["not_voted"] for r in rows],
        "support": [r["support"] for r in rows],
        "bar": 2 / 3 if ballot.method == VotingMethod.DOUBLE_SUPERMAJORITY else 0.5,
    }
    return {
        "ballot": ballot,
        "tally": tally,
        "rows": rows,
        "chart": chart,
        "live": ballot.status == BallotStatus.OPEN and tally is not None,
        "outcome_label": Outcome(tally["outcome"]).label if tally else "",
        "bar_label": "two thirds" if ballot.method == VotingMethod.DOUBLE_SUPERMAJORITY else "more than half",
    }


def _get_ballot(request: HttpRequest, pk: int) -> Ballot:
    return get_object_or_404(
        _ballots_for(request.user).prefetch_related("recusals__user", "recusals__organization"), pk=pk
    )


@login_required
def ballot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The subject, the vote buttons, my recusal, and the live per-sector tally."""
    ballot = _get_ballot(request, pk)
    user = request.user
    state = _voter_state(ballot, user)
    context = _tally_context(ballot, user)
    roll_call = []
    if ballot.status == BallotStatus.CLOSED:
        roll_call = ballot.roll_call()
    context.update(
        {
            "state": state,
            "can_vote": state["code"] in ("waiting", "voted")
            and ballot.status == BallotStatus.OPEN
            and not ballot.is_past_closing,
            "can_recuse": (state["code"] == "waiting")
            or (ballot.status == BallotStatus.DRAFT and ballot.committee_id in member_committee_ids(user)),
            "can_run": services.can_run_ballots(user, ballot.committee),
            "can_prepare": services.can_prepare_ballots(user, ballot.committee),
            "subject_url": ballot.subject_url(),
            "vote_form": VoteForm(initial={"choice": ballot.my_vote}),
            "recuse_form": RecuseForm(),
            "recusals": list(ballot.recusals.all()) if context["tally"] or ballot.status == BallotStatus.DRAFT else [],
            "my_recusal": next((r for r in ballot.recusals.all() if r.user_id == user.pk), None),
            "follow_ups": list(Ballot.objects.visible_to(user).filter(previous_ballot=ballot)),
            "roll_call": roll_call,
            "choices": VoteChoice.choices,
            "my_vote_label": VoteChoice(ballot.my_vote).label.lower() if ballot.my_vote else "",
        }
    )
    return render(request, "governance/ballot_detail.html", context)


@login_required
@require_GET
def ballot_tally(request: HttpRequest, pk: int) -> HttpResponse:
    """The tally panel alone, polled by htmx so the page updates in place."""
    ballot = get_object_or_404(Ballot.objects.visible_to(request.user).select_related("committee"), pk=pk)
    return render(request, "governance/_ballot_tally.html", _tally_context(ballot, request.user))


def _act(request: HttpRequest, pk: int, act, success: str) -> HttpResponse:
    """Run one ballot service from a page's POST; its refusal becomes a message on the page."""
    ballot = get_object_or_404(Ballot.objects.visible_to(request.user), pk=pk)
    try:
        result = act(ballot)
    except (DomainError, PermissionDenied, ValidationError) as error:
        text = error.message if isinstance(error, DomainError) else " ".join(getattr(error, "messages", [str(error)]))
        messages.error(request, text or "You may not do this.")
        return redirect("ballots:detail", ballot.pk)
    messages.success(request, success)
    return redirect("ballots:detail", result.pk if isinstance(result, Ballot) else ballot.pk)


@login_required
@require_POST
def ballot_vote(request: HttpRequest, pk: int) -> HttpResponse:
    form = VoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose yes, no or abstain.")
        return redirect("ballots:detail", pk)
    choice = form.cleaned_data["choice"]
    return _act(
        request,
        pk,
        lambda ballot: services.cast_vote(request.user, ballot, choice),
        f"Your vote is recorded: {VoteChoice(choice).label.lower()}. You may change it until the ballot closes.",
    )


@login_required
@require_POST
def ballot_recuse(request: HttpRequest, pk: int) -> HttpResponse:
    form = RecuseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say what the conflict of interest is.")
        return redirect("ballots:detail", pk)
    return _act(
        request,
        pk,
        lambda ballot: services.declare_conflict(request.user, ballot, form.cleaned_data["reason"]),
        "Your conflict of interest is recorded; you are recused from this ballot.",
    )


@login_required
@require_POST
def ballot_open(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda ballot: services.open_ballot(request.user, ballot), "The ballot is open.")


@login_required
@require_POST
def ballot_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda ballot: services.close_ballot(request.user, ballot), "The ballot is closed.")


@login_required
@require_POST
def ballot_second(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda ballot: services.start_second_ballot(request.user, ballot),
        "A second ballot on the same subject is drafted; it is linked to the first.",
    )
