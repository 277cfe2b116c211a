"""Ballot pages: the list with turnout, drafting, the ballot with its live tally, and the acts
(vote, declare a conflict, open, close, a second ballot)."""

from __future__ import annotations

from itertools import chain

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from governance import permissions, services, web
from governance.choices import (
    BallotStatus,
    Outcome,
    Sector,
    VoteChoice,
    VotingMethod,
)
from governance.forms import (
    BallotForm,
    RecuseForm,
    VoteForm,
)
from governance.models import Ballot, Recusal
from governance.models.ballots import member_committee_ids
from governance.pagination import paginate
from governance.roles import is_administrator
from governance.selectors import own_seats
from governance.services.substitutes import seats_held_by, substitution_for_seat
from governance.transparency.links import receipt


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


CLOSED_PER_PAGE = 25


@login_required
def ballot_list(request: HttpRequest) -> HttpResponse:
    """Open ballots first (with my vote status), then drafts, then the closed record, newest
    first, a page at a time: the record grows with every decision, the page does not."""
    ballots = _ballots_for(request.user)
    current = list(
        ballots.filter(status__in=[BallotStatus.OPEN, BallotStatus.DRAFT]).order_by("-opened_at", "-created_at")
    )
    record = ballots.filter(status=BallotStatus.CLOSED).order_by(F("closed_at").desc(nulls_last=True), "-pk")
    closed, query = paginate(request, record, CLOSED_PER_PAGE)
    closed_ballots = list(closed.object_list)
    for ballot in chain(current, closed_ballots):
        ballot.voter_state = _voter_state(ballot, request.user)
    groups = [
        ("open", "Open ballots", [b for b in current if b.status == BallotStatus.OPEN]),
        ("draft", "Drafts", [b for b in current if b.status == BallotStatus.DRAFT]),
        ("closed", "Closed ballots", closed_ballots),
    ]
    # The turnout chart is of the latest closed ballots, whichever page of the record is shown.
    latest = closed_ballots[:TURNOUT_BALLOTS] if closed.number == 1 else list(record[:TURNOUT_BALLOTS])
    can_prepare = permissions.managed_committees(request.user).exists()
    return render(
        request,
        "governance/ballot_list.html",
        {
            "groups": groups,
            "can_prepare": can_prepare,
            "turnout": _turnout(latest),
            "closed_page": closed,
            "query": query,
        },
    )


TURNOUT_BALLOTS = 12


def _turnout(closed: list[Ballot]) -> dict:
    """Turnout per sector of the latest closed ballots, from their frozen tallies (no query):
    the share of each sector's eligible members who voted, abstentions included."""
    labels = dict(Sector.choices)
    ballots = list(reversed([b for b in closed if b.result]))
    sectors = list(Sector.values)
    rows = []
    for ballot in ballots:
        cells = []
        for sector in sectors:
            row = ballot.result["sectors"].get(sector, {})
            eligible = row.get("eligible", 0)
            voted = row.get("yes", 0) + row.get("no", 0) + row.get("abstain", 0)
            cells.append({"voted": voted, "eligible": eligible, "share": voted / eligible if eligible else 0.0})
        rows.append({"ballot": ballot, "cells": cells})
    return {
        "rows": rows,
        "sectors": [labels[s] for s in sectors],
        "chart": {
            "ballots": [f"{b.title[:40]} (#{b.pk})" for b in ballots],
            "sectors": [labels[s] for s in sectors],
            "turnout": [[r["cells"][i]["share"] for r in rows] for i in range(len(sectors))],
        },
    }


@login_required
def ballot_create(request: HttpRequest) -> HttpResponse:
    """Prepare a draft ballot (co-chairs, the secretary, administrators)."""
    committees = permissions.managed_committees(request.user)
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
            web.add_service_errors(form, error)
        else:
            messages.success(request, "The draft ballot is ready; a co-chair opens it.")
            return redirect("ballots:detail", ballot.pk)
    return render(request, "governance/ballot_form.html", {"form": form})


def tally_context(ballot: Ballot, user, member_committees: set[int] | None = None) -> dict:
    """What the tally panel shows: the tally when this person may see it, and the chart data.
    `member_committees`: member_committee_ids(user), where the caller has them."""
    if member_committees is None and ballot.status == BallotStatus.OPEN:
        member_committees = member_committee_ids(user)
    visible = ballot.status == BallotStatus.CLOSED or (
        ballot.status == BallotStatus.OPEN and (is_administrator(user) or ballot.committee_id in member_committees)
    )
    tally = ballot.tally if visible else None
    rows = []
    # Seats voted by a substitute (DESIGN.md 2.1): who voted for whom, not how.
    substitutes = []
    if tally:
        substitutes = [
            {"substitute": str(vote.cast_by), "member": str(vote.voter), "sector": vote.sector}
            for vote in ballot.votes.filter(cast_by__isnull=False).select_related("cast_by", "voter").order_by("sector")
        ]
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
        "substitutes": substitutes,
        "bar_label": "two thirds" if ballot.method == VotingMethod.DOUBLE_SUPERMAJORITY else "more than half",
    }


def _get_ballot(request: HttpRequest, pk: int) -> Ballot:
    return get_object_or_404(
        _ballots_for(request.user).prefetch_related(
            Prefetch("recusals", queryset=Recusal.objects.select_related("user", "organization"))
        ),
        pk=pk,
    )


@login_required
def ballot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The subject, the vote buttons, my recusal, and the live per-sector tally."""
    ballot = _get_ballot(request, pk)
    user = request.user
    state = _voter_state(ballot, user)
    # The committees of the person's seats today (member_committee_ids), from the seats the
    # request reads once: the header asks for them too.
    member_committees = {committee_id for committee_id, _ in own_seats(request)}
    context = tally_context(ballot, user, member_committees)
    roll_call = []
    if ballot.status == BallotStatus.CLOSED:
        roll_call = ballot.roll_call()
    # Substitutes (DESIGN.md 2.1): the one named for my seat, and the seats I vote in.
    voting_now = ballot.status == BallotStatus.OPEN and not ballot.is_past_closing
    my_substitution = None
    if ballot.status != BallotStatus.CLOSED and (ballot.my_eligible or ballot.status == BallotStatus.DRAFT):
        my_substitution = substitution_for_seat(ballot, user.pk)
    can_run = permissions.can_run_ballots(user, ballot.committee)
    held_seats = []
    if voting_now:
        for member_id in seats_held_by(user, ballot):
            vote = ballot.votes.filter(voter_id=member_id).first()
            held_seats.append({"substitution": substitution_for_seat(ballot, member_id), "vote": vote})
    context.update(
        {
            "state": state,
            "can_vote": state["code"] in ("waiting", "voted") and voting_now and my_substitution is None,
            "my_substitution": my_substitution,
            "my_substitute_voted": bool(my_substitution and my_substitution.votes.exists()),
            "can_send_substitute": my_substitution is None
            and not ballot.my_vote
            and not ballot.my_recused
            and (
                (voting_now and ballot.my_eligible)
                or (ballot.status == BallotStatus.DRAFT and ballot.committee_id in member_committees)
            ),
            "held_seats": held_seats,
            "can_recuse": (state["code"] == "waiting")
            or (ballot.status == BallotStatus.DRAFT and ballot.committee_id in member_committees),
            "can_run": can_run,
            **_closing(ballot),
            "can_prepare": permissions.can_prepare_ballots(user, ballot.committee),
            "subject_url": ballot.subject_url(),
            "vote_form": VoteForm(initial={"choice": ballot.my_vote}),
            "recuse_form": RecuseForm(),
            "recusals": list(ballot.recusals.all()) if context["tally"] or ballot.status == BallotStatus.DRAFT else [],
            "my_recusal": next((r for r in ballot.recusals.all() if r.user_id == user.pk), None),
            "follow_ups": list(Ballot.objects.visible_to(user).filter(previous_ballot=ballot)),
            "roll_call": roll_call,
            "missing_voters": ballot.missing_voters() if ballot.status == BallotStatus.OPEN and can_run else [],
            "choices": VoteChoice.choices,
            "my_vote_label": VoteChoice(ballot.my_vote).label.lower() if ballot.my_vote else "",
            "vote_receipt": receipt(user, ballot.votes.filter(voter=user).first(), "vote.cast", "vote.changed")
            if ballot.my_vote
            else None,
            "outcome_receipt": receipt(user, ballot, "ballot.closed") if ballot.status == BallotStatus.CLOSED else None,
            "my_vote_reason": ballot.votes.filter(voter=user).values_list("reason", flat=True).first() or ""
            if ballot.my_vote
            else "",
        }
    )
    return render(request, "governance/ballot_detail.html", context)


@login_required
@require_GET
def ballot_tally(request: HttpRequest, pk: int) -> HttpResponse:
    """The tally panel alone, polled by htmx so the page updates in place."""
    ballot = get_object_or_404(Ballot.objects.visible_to(request.user).select_related("committee"), pk=pk)
    return render(request, "governance/_ballot_tally.html", tally_context(ballot, request.user))


def _closing(ballot: Ballot) -> dict:
    """What the close button does now, said before it is pressed (DESIGN.md 2.7)."""
    if ballot.status != BallotStatus.OPEN:
        return {}
    waiting = ballot.not_yet_voted()
    asked = ballot.sectors_asking_to_close()
    if waiting == 0 or ballot.is_past_closing:
        label, confirm = "Close the ballot now", "Closing is final: the tally is frozen and the outcome applied."
    else:
        members = f"{waiting} member{'s have' if waiting != 1 else ' has'} not voted yet"
        label = "Ask to close early"
        confirm = (
            f"{members}. Closing early needs every sector's co-chair: yours is recorded now, and the ballot "
            "closes, for good, once the other sector's co-chair asks too."
        )
    return {"close_label": label, "close_confirm": confirm, "close_requested_by": asked, "not_yet_voted": waiting}


def _act(request: HttpRequest, pk: int, act, success) -> HttpResponse:
    """Run one ballot service from a page's POST; its refusal becomes a message on the page.
    `success` is the message, or a function of the act's result that gives it."""
    ballot = get_object_or_404(Ballot.objects.visible_to(request.user), pk=pk)
    try:
        result = act(ballot)
    except web.REFUSALS as error:
        web.refuse(request, error)
        return redirect("ballots:detail", ballot.pk)
    messages.success(request, success(result) if callable(success) else success)
    return redirect("ballots:detail", result.pk if isinstance(result, Ballot) else ballot.pk)


@login_required
@require_POST
def ballot_vote(request: HttpRequest, pk: int) -> HttpResponse:
    form = VoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose yes, no or abstain.")
        return redirect("ballots:detail", pk)
    choice, reason = form.cleaned_data["choice"], form.cleaned_data.get("reason", "")
    seat = form.cleaned_data.get("on_behalf_of")
    whose = "Your vote" if seat is None else "Your vote in this seat"
    return _act(
        request,
        pk,
        lambda ballot: services.cast_vote(request.user, ballot, choice, reason, on_behalf_of=seat),
        f"{whose} is recorded: {VoteChoice(choice).label.lower()}. You may change it until the ballot closes.",
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
    return _act(request, pk, lambda ballot: services.close_ballot(request.user, ballot), services.close_message)


@login_required
@require_POST
def ballot_second(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda ballot: services.start_second_ballot(request.user, ballot),
        "A second ballot on the same subject is drafted; it is linked to the first.",
    )


@login_required
@require_POST
def ballot_remind(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda ballot: services.remind_voters(request.user, ballot),
        lambda count: f"A reminder goes to the {count} member{'s' if count != 1 else ''} who have not voted yet.",
    )
