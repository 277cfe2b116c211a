"""Pages of the credit ledger: requesting credits, signing them, accounts with their burn-down,
pools by sector, the oversubscription view and the resources with their rates.

They read through each model's visible_to and write through compute.services.credits; a view
only collects input and shows the outcome.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_POST

from compute import permissions, selectors
from compute.choices import (
    AWARDED_STATUSES,
    AccountKind,
    RefundStatus,
    RequestStatus,
    TransactionKind,
    TransferStatus,
)
from compute.forms.credits import CreditRequestForm, RefundForm, RejectForm, SignForm, TransferForm
from compute.models import (
    CreditAccount,
    CreditAlert,
    CreditPool,
    CreditRefund,
    CreditRequest,
    CreditTransfer,
    LedgerEntry,
    LedgerReversal,
    Resource,
    ResourceRate,
)
from compute.models.ledger import ZERO, exact
from compute.services.credits import refunds, requests, resources, transfers
from compute.services.credits.posting import fmt_credits
from governance import services
from governance.choices import BallotStatus, Role, Sector, SubjectType
from governance.models import Ballot, Membership
from governance.pagination import paginate
from governance.permissions import can_prepare_ballots
from governance.transparency.links import receipt, receipts
from governance.web import REFUSALS, add_service_errors, refuse

# The events ledger postings are recorded under (one per transaction), for their receipts.
POSTING_VERBS = [f"ledger.{kind}" for kind in TransactionKind.values]


@login_required
def credits_overview(request: HttpRequest) -> HttpResponse:
    """The credit area: your charters' accounts, the open pools, and where to go next."""
    accounts = (
        CreditAccount.objects.visible_to(request.user)
        .filter(kind=AccountKind.CHARTER)
        .select_related("charter", "charter__lead_organization")
        .order_by("charter__title")
    )
    pools = CreditPool.objects.visible_to(request.user).select_related("account", "committee")
    awaiting = selectors.awaiting_signature(request.user).count()
    return render(
        request,
        "compute/credits.html",
        {"accounts": accounts, "pools": pools, "awaiting": awaiting},
    )


@login_required
def resource_list(request: HttpRequest) -> HttpResponse:
    """The shared resources with their current, past and scheduled credit rates."""
    now = timezone.now()
    resources = list(Resource.objects.visible_to(request.user).prefetch_related("rates").order_by("name"))
    for resource in resources:
        rates = sorted(resource.rates.all(), key=lambda r: r.effective_from, reverse=True)
        started = [r for r in rates if r.effective_from <= now]
        resource.current_rate = started[0] if started else None
        resource.past_rates = started[1:]
        resource.scheduled_rates = [r for r in rates if r.effective_from > now]
    return render(request, "compute/resource_list.html", {"resources": resources})


@login_required
def request_quote(request: HttpRequest) -> HttpResponse:
    """The pool's available credits and the resource's rate, for the request form (htmx)."""
    pool = (
        CreditPool.objects.visible_to(request.user).select_related("account").filter(pk=_int(request.GET.get("pool")))
    )
    resource = Resource.objects.visible_to(request.user).filter(pk=_int(request.GET.get("resource")))
    pool, resource = pool.first(), resource.first()
    rate = resources.current_rate(resource) if resource else None
    return render(request, "compute/_quote.html", {"pool": pool, "resource": resource, "rate": rate})


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
def request_create(request: HttpRequest) -> HttpResponse:
    """Ask for credits. "Save draft" keeps it to yourself; "Submit" puts it to the committee."""
    form = CreditRequestForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            credit_request = requests.create_request(request.user, submit="submit" in request.POST, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error("charter", str(error))
        else:
            verb = "submitted" if credit_request.status == RequestStatus.SUBMITTED else "saved as a draft"
            messages.success(request, f"Your request #{credit_request.pk} is {verb}.")
            return redirect("compute:request-detail", credit_request.pk)
    pool = form["pool"].value()
    resource = form["resource"].value()
    quote = {
        "pool": CreditPool.objects.select_related("account").filter(pk=_int(pool)).first(),
        "resource": Resource.objects.filter(pk=_int(resource)).first(),
    }
    quote["rate"] = resources.current_rate(quote["resource"]) if quote["resource"] else None
    open_pools = CreditPool.objects.open_on(timezone.localdate()).select_related("account").order_by("period_end")
    return render(
        request,
        "compute/request_form.html",
        {"form": form, "quote": quote, "open_pools": open_pools, "limit": settings.DUAL_CONTROL_LIMIT},
    )


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    """The requests you made, newest first."""
    requests = (
        CreditRequest.objects.visible_to(request.user)
        .filter(requested_by=request.user)
        .select_related("charter", "resource", "pool")
        .order_by("-created_at", "-pk")
    )
    page, query = paginate(request, requests, 25)
    return render(request, "compute/request_list.html", {"page": page, "query": query, "title": "My credit requests"})


@login_required
def requests_awaiting(request: HttpRequest) -> HttpResponse:
    """For co-chairs: the requests waiting for their signature, and refunds and reversals to
    decide."""
    chaired = Membership.objects.active().filter(user=request.user, role=Role.CHAIR).values("committee")
    refunds = (
        CreditRefund.objects.filter(status=RefundStatus.REQUESTED, account__charter__committee__in=chaired)
        .select_related("account__charter", "requested_by")
        .annotate(hours=Count("records"), credits=Sum("records__credits"))
        .order_by("created_at")
    )
    reversals = (
        LedgerReversal.objects.filter(status=RefundStatus.REQUESTED, committee__in=chaired)
        .select_related("original", "requested_by")
        .prefetch_related("approvals")
        .order_by("created_at")
    )
    return render(
        request,
        "compute/requests_awaiting.html",
        {
            "requests": selectors.awaiting_signature(request.user),
            "refunds": refunds,
            "reversals": reversals,
            "limit": settings.DUAL_CONTROL_LIMIT,
        },
    )


# The sign and reject forms share a page: their fields get ids of their own.
SIGN_IDS, REJECT_IDS = "sign_%s", "reject_%s"


def _request_page(request: HttpRequest, credit_request: CreditRequest, *, sign_form=None, reject_form=None, status=200):
    """The request, and for a co-chair its decision page: the charter's balance, burn,
    forecast and earlier awards and the pool's headroom beside the sign and reject forms."""
    signatures = list(credit_request.signatures.all())
    user = request.user
    is_chair = permissions.may_decide_requests(user, credit_request.charter.committee)
    submitted = credit_request.status == RequestStatus.SUBMITTED
    actions = {
        "submit": credit_request.status == RequestStatus.DRAFT and credit_request.requested_by_id == user.pk,
        "withdraw": credit_request.status in (RequestStatus.DRAFT, RequestStatus.SUBMITTED)
        and credit_request.requested_by_id == user.pk,
        "sign": submitted
        and is_chair
        and not credit_request.needs_ballot
        and all(s.signer_id != user.pk for s in signatures),
        "reject": submitted and is_chair and not credit_request.needs_ballot,
    }
    signed_sectors = {s.sector for s in signatures}
    missing = [label for value, label in Sector.choices if value not in signed_sectors]
    ballots = list(
        Ballot.objects.visible_to(user)
        .filter(subject_type=SubjectType.CREDIT_REQUEST, subject_id=credit_request.pk)
        .order_by("-created_at")
    )
    actions["ballot"] = (
        submitted
        and credit_request.needs_ballot
        and can_prepare_ballots(user, credit_request.charter.committee)
        and not any(b.status in (BallotStatus.DRAFT, BallotStatus.OPEN) for b in ballots)
    )
    # Where the awarded credits went, for those who may see that account.
    account = (
        CreditAccount.objects.visible_to(user).filter(charter_id=credit_request.charter_id).first()
        if credit_request.allocation_id
        else None
    )
    deciding = submitted and (is_chair or can_prepare_ballots(user, credit_request.charter.committee))
    return render(
        request,
        "compute/request_detail.html",
        {
            "req": credit_request,
            "account": account,
            "award_receipt": receipt(user, credit_request, "credit_request.approved")
            if credit_request.allocation_id
            else None,
            "signatures": signatures,
            "missing_sectors": missing,
            "ballots": ballots,
            "actions": actions,
            "decision": selectors.decision(credit_request) if deciding else None,
            "sign_form": sign_form or SignForm(auto_id=SIGN_IDS),
            "reject_form": reject_form or RejectForm(auto_id=REJECT_IDS),
            "limit": settings.DUAL_CONTROL_LIMIT,
        },
        status=status,
    )


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    credit_request = get_object_or_404(CreditRequest.objects.visible_to(request.user).with_related(), pk=pk)
    return _request_page(request, credit_request)


@require_POST
@login_required
def request_action(request: HttpRequest, pk: int, act: str) -> HttpResponse:
    """Submit, withdraw, sign or reject a request; the service decides whether you may. A sign
    or reject form with mistakes comes back with every error beside its field and the values kept."""
    credit_request = get_object_or_404(CreditRequest.objects.visible_to(request.user).with_related(), pk=pk)
    try:
        if act == "submit":
            requests.submit_request(request.user, credit_request)
            messages.success(request, "Submitted to the committee.")
        elif act == "withdraw":
            requests.withdraw_request(request.user, credit_request)
            messages.success(request, "Withdrawn.")
        elif act == "sign":
            form = SignForm(request.POST, auto_id=SIGN_IDS)
            if not form.is_valid():
                return _request_page(request, credit_request, sign_form=form, status=400)
            signed = requests.sign_request(request.user, credit_request, **form.cleaned_data)
            if signed.is_awarded:
                messages.success(request, f"Signed: the request is {signed.get_status_display().lower()}.")
            else:
                messages.success(request, "Signed. The other sector's co-chair signs next.")
        elif act == "ballot":
            ballot = services.create_ballot(
                request.user,
                committee=credit_request.charter.committee,
                title=f"Credit request #{credit_request.pk} for {credit_request.charter}"[:200],
                subject_type=SubjectType.CREDIT_REQUEST,
                subject_id=credit_request.pk,
            )
            messages.success(request, "The draft ballot is ready; a co-chair opens it.")
            return redirect("ballots:detail", ballot.pk)
        elif act == "reject":
            form = RejectForm(request.POST, auto_id=REJECT_IDS)
            if not form.is_valid():
                return _request_page(request, credit_request, reject_form=form, status=400)
            requests.reject_request(request.user, credit_request, **form.cleaned_data)
            messages.success(request, "Rejected.")
        else:
            raise Http404
    except REFUSALS as error:
        refuse(request, error)
    return redirect("compute:request-detail", pk)


@login_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A charter's account: balance, allocation and consumption, the burn-down chart with the
    forecast, and its transactions. The number of queries does not grow with the ledger."""
    account = get_object_or_404(
        CreditAccount.objects.visible_to(request.user)
        .filter(kind=AccountKind.CHARTER)
        .select_related("charter", "charter__lead_organization", "charter__committee"),
        pk=pk,
    )
    page, query = paginate(request, selectors.AccountEntries(account), 25)
    page_receipts = receipts(request.user, [entry.transaction for entry in page], POSTING_VERBS)
    for entry in page:
        entry.receipt = page_receipts.get(entry.transaction_id)
    transfers = (
        CreditTransfer.objects.filter(Q(source=account) | Q(target=account), status=TransferStatus.PROPOSED)
        .select_related("source__charter", "target__charter", "proposed_by")
        .order_by("-created_at")
    )
    refunds = (
        CreditRefund.objects.filter(account=account)
        .select_related("requested_by")
        .annotate(hours=Count("records"), credits=Sum("records__credits"))
        .order_by("-created_at")[:10]
    )
    user = request.user
    is_lead = permissions.is_charter_lead(user, account.charter)
    may_claim = permissions.may_request_credits_for(user, account.charter)
    chart = selectors.burn_down(account)
    return render(
        request,
        "compute/account_detail.html",
        {
            "account": account,
            "summary": selectors.account_summary(account),
            "burn_rate": selectors.burn_rate(account),
            "forecast": selectors.forecast_exhaustion(account),
            "chart": chart,
            "exhausted_on": datetime.date.fromisoformat(chart["exhausted_on"]) if chart["exhausted_on"] else None,
            "state": selectors.account_states([account])[0],
            "page": page,
            "query": query,
            "alerts": CreditAlert.objects.filter(account=account).order_by("-created_at")[:10],
            "transfers": transfers,
            "refunds": refunds,
            "transfer_form": TransferForm(source=account) if is_lead else None,
            "refund_form": RefundForm(account=account) if may_claim else None,
        },
    )


@require_POST
@login_required
def account_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(CreditAccount.objects.visible_to(request.user), pk=pk, kind=AccountKind.CHARTER)
    form = TransferForm(request.POST, source=account)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_text())
        transfer = transfers.propose_transfer(request.user, source=account, **form.cleaned_data)
        messages.success(
            request,
            "Transferred."
            if transfer.status == TransferStatus.COMPLETED
            else "Proposed: the other lead consents next.",
        )
    except REFUSALS as error:
        refuse(request, error)
    return redirect("compute:account-detail", pk)


@require_POST
@login_required
def account_refund(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(CreditAccount.objects.visible_to(request.user), pk=pk, kind=AccountKind.CHARTER)
    form = RefundForm(request.POST, account=account)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_text())
        records = form.cleaned_data["records"]
        refund = refunds.request_refund(
            request.user, account=account, records=records, reason=form.cleaned_data["reason"]
        )
        credits = fmt_credits(sum((record.credits for record in records), ZERO))
        messages.success(
            request,
            f"Refund #{refund.pk} of {len(records)} hour{pluralize(len(records))} of usage ({credits} credits) "
            "requested: the co-chairs of both sectors decide.",
        )
    except REFUSALS as error:
        refuse(request, error)
    return redirect("compute:account-detail", pk)


@require_POST
@login_required
def transfer_action(request: HttpRequest, pk: int, act: str) -> HttpResponse:
    transfer = get_object_or_404(CreditTransfer.objects.visible_to(request.user), pk=pk)
    try:
        if act == "consent":
            done = transfers.consent_transfer(request.user, transfer)
            messages.success(
                request, "Transferred." if done.status == TransferStatus.COMPLETED else "Consent recorded."
            )
        elif act == "decline":
            transfers.decline_transfer(request.user, transfer)
            messages.success(request, "Declined.")
        else:
            raise Http404
    except REFUSALS as error:
        refuse(request, error)
    return redirect("compute:account-detail", request.POST.get("account") or transfer.source_id)


@require_POST
@login_required
def refund_action(request: HttpRequest, pk: int, act: str) -> HttpResponse:
    refund = get_object_or_404(CreditRefund.objects.visible_to(request.user), pk=pk)
    if act not in ("approve", "reject"):
        raise Http404
    try:
        refunds.decide_refund(request.user, refund, approve=act == "approve", note=request.POST.get("note", ""))
        messages.success(
            request, "Refund approved: the hours of usage are given back." if act == "approve" else "Refund rejected."
        )
    except REFUSALS as error:
        refuse(request, error)
    return redirect("compute:requests-awaiting")


@require_POST
@login_required
def reversal_action(request: HttpRequest, pk: int, act: str) -> HttpResponse:
    proposal = get_object_or_404(LedgerReversal.objects.visible_to(request.user), pk=pk)
    if act not in ("approve", "reject"):
        raise Http404
    try:
        proposal = refunds.decide_reversal(
            request.user, proposal, approve=act == "approve", note=request.POST.get("note", "")
        )
        if act == "reject":
            messages.success(request, f"Reversal of transaction #{proposal.original_id} turned down: nothing moves.")
        elif proposal.reversal_id:
            messages.success(request, f"Transaction #{proposal.original_id} is reversed (#{proposal.reversal_id}).")
        else:
            messages.success(request, "Your approval is recorded: the other sector's co-chair decides next.")
    except REFUSALS as error:
        refuse(request, error)
    return redirect("compute:requests-awaiting")


@login_required
def pool_list(request: HttpRequest) -> HttpResponse:
    pools = CreditPool.objects.visible_to(request.user).select_related("account", "committee")
    return render(request, "compute/pool_list.html", {"pools": pools})


def _sector_split(pool: CreditPool) -> list[dict]:
    """Allocated and consumed credits of a pool by the sector of each charter's lead
    organization (one aggregate query)."""
    rows = (
        LedgerEntry.objects.filter(pool=pool, account__kind=AccountKind.CHARTER)
        .values("account__charter__lead_organization__sector", "transaction__kind", "transaction__reverses__kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    split: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        kind = row["transaction__reverses__kind"] or row["transaction__kind"]
        split[row["account__charter__lead_organization__sector"]][kind] += exact(row["total"])
    labels = dict(Sector.choices)
    result = []
    for sector in [*Sector.values, *sorted(set(split) - set(Sector.values))]:
        sums = split.get(sector, {})
        allocated = sums.get(TransactionKind.ALLOCATION, Decimal(0)) + sums.get(TransactionKind.TRANSFER, Decimal(0))
        consumed = -sums.get(TransactionKind.USAGE, Decimal(0))
        expired = -sums.get(TransactionKind.EXPIRY, Decimal(0))
        share = (allocated * 100 / pool.total).quantize(Decimal("0.1")) if pool.total else Decimal(0)
        result.append(
            {
                "sector": sector,
                "label": labels.get(sector, sector),
                "allocated": allocated,
                "consumed": consumed,
                "expired": expired,
                "share": share,
            }
        )
    return result


@login_required
def pool_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A pool: total, allocated and available, split by the sector of each charter's lead."""
    pool = get_object_or_404(CreditPool.objects.visible_to(request.user).select_related("account", "committee"), pk=pk)
    split = _sector_split(pool)
    awards = CreditRequest.objects.filter(pool=pool, status__in=AWARDED_STATUSES).select_related(
        "charter", "charter__lead_organization", "resource"
    )
    page, query = paginate(request, awards.order_by("-decided_at", "-pk"), 25)
    pending = CreditRequest.objects.filter(pool=pool, status=RequestStatus.SUBMITTED).aggregate(total=Sum("amount"))
    chart = {
        "sectors": [row["label"] for row in split],
        "allocated": [str(row["allocated"]) for row in split],
        "consumed": [str(row["consumed"]) for row in split],
    }
    return render(
        request,
        "compute/pool_detail.html",
        {
            "pool": pool,
            "split": split,
            "page": page,
            "query": query,
            "pending": exact(pending["total"]),
            "chart": chart,
        },
    )


@login_required
def oversubscription(request: HttpRequest) -> HttpResponse:
    """For the committee: credits awarded (and asked for) on each resource in a pool's period,
    in unit-hours at the resource's rate, against what the resource can deliver."""
    pools = list(CreditPool.objects.visible_to(request.user).select_related("account").order_by("-period_start"))
    today = timezone.localdate()
    chosen = next((p for p in pools if str(p.pk) == request.GET.get("pool")), None) or next(
        (p for p in pools if p.period_start <= today <= p.period_end), pools[0] if pools else None
    )
    rows = []
    if chosen is not None:
        start = timezone.make_aware(datetime.datetime.combine(chosen.period_start, datetime.time()))
        sums = defaultdict(lambda: {"awarded": Decimal(0), "pending": Decimal(0)})
        for row in (
            CreditRequest.objects.filter(pool=chosen, status__in=[*AWARDED_STATUSES, RequestStatus.SUBMITTED])
            .values("resource", "status")
            .annotate(awarded=Sum("approved_amount"), asked=Sum("amount"))
            .order_by()
        ):
            if row["status"] == RequestStatus.SUBMITTED:
                sums[row["resource"]]["pending"] += exact(row["asked"])
            else:
                sums[row["resource"]]["awarded"] += exact(row["awarded"])
        rates = defaultdict(list)
        for rate in ResourceRate.objects.order_by("effective_from"):
            rates[rate.resource_id].append(rate)
        for resource in Resource.objects.visible_to(request.user).order_by("name"):
            history = rates.get(resource.pk, [])
            in_force = [r for r in history if r.effective_from <= start]
            rate = in_force[-1] if in_force else (history[0] if history else None)
            capacity_hours = resource.capacity * chosen.hours
            awarded, pending = sums[resource.pk]["awarded"], sums[resource.pk]["pending"]
            awarded_hours = awarded / rate.rate if rate and rate.rate else None
            pending_hours = pending / rate.rate if rate and rate.rate else None
            share = (
                (awarded_hours * 100 / capacity_hours).quantize(Decimal("0.1"))
                if awarded_hours is not None and capacity_hours
                else None
            )
            # Demand counts what is asked and not yet decided: awarding it all would need this.
            demand_share = (
                ((awarded_hours + pending_hours) * 100 / capacity_hours).quantize(Decimal("0.1"))
                if awarded_hours is not None and pending_hours is not None and capacity_hours
                else None
            )
            rows.append(
                {
                    "resource": resource,
                    "rate": rate,
                    "capacity_hours": capacity_hours,
                    "awarded": awarded,
                    "awarded_hours": awarded_hours,
                    "pending_hours": pending_hours,
                    "share": share,
                    "demand_share": demand_share,
                    "oversubscribed": share is not None and share > 100,
                    "over_demanded": demand_share is not None and demand_share > 100,
                }
            )
    pending = selectors.pending_demand(chosen) if chosen is not None else Decimal(0)
    return render(
        request,
        "compute/oversubscription.html",
        {
            "pools": pools,
            "pool": chosen,
            "rows": rows,
            "pending": pending,
            "available": chosen.available if chosen is not None else Decimal(0),
        },
    )
