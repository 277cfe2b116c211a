"""Credit requests: drafting, submitting, withdrawing, and deciding them with dual control
(co-chairs of both sectors sign at or below the limit; above it a passed ballot approves)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from charters.choices import CharterStatus, DataClassification
from compute import permissions
from compute.choices import REQUEST_TRANSITIONS, DecisionReason, RequestStatus, ResourceStatus, TransactionKind
from compute.models import CreditAccount, CreditPool, CreditRequest, CreditSignature
from compute.selectors import ballot_reason, interested_organizations
from compute.services.credits import pools, posting
from governance.audit import record_event, snapshot
from governance.choices import Sector
from governance.exceptions import DomainError
from governance.permissions import co_chair_seat, require
from governance.services.seats import mark_constituted
from governance.transitions import check_transition

REQUEST_FIELDS = ["charter", "resource", "pool", "amount", "period_start", "period_end", "justification"]
FUNDABLE_CHARTER_STATUSES = (CharterStatus.APPROVED, CharterStatus.ACTIVE)


def eligibility_problems(*, charter, resource, pool, period_start=None, period_end=None, amount=None) -> dict[str, str]:
    """Why credits for `charter` on `resource` from `pool` cannot be granted, by field; empty
    when they can. The rules of DESIGN.md 2.3: an approved or active charter, a resource
    inside its allowed jurisdictions, a TEE-capable one for restricted data, and never more
    than the pool has left to give (a pool is never over-committed)."""
    problems: dict[str, str] = {}
    available = (
        CreditAccount.objects.filter(pool=pool).values_list("balance", flat=True).first()
        if amount is not None
        else None
    )
    if available is not None and amount > available:
        problems["amount"] = (
            f"{pool.name} has {posting.fmt_credits(available)} credits available; "
            f"a request may ask for at most that, not {posting.fmt_credits(amount)}."
        )
    if charter.status not in FUNDABLE_CHARTER_STATUSES:
        problems["charter"] = (
            "Credits are granted only to an approved or active charter; "
            f"'{charter}' is {charter.get_status_display().lower()}."
        )
    allowed = [str(j) for j in (charter.allowed_jurisdictions or [])]
    if allowed and resource.jurisdiction.strip().casefold() not in {j.strip().casefold() for j in allowed}:
        problems["resource"] = (
            f"{resource} is in {resource.jurisdiction}, outside the charter's allowed jurisdictions "
            f"({', '.join(allowed)})."
        )
    elif charter.data_classification == DataClassification.RESTRICTED and not resource.tee_capable:
        problems["resource"] = (
            f"The charter works with restricted data, which may run only on a TEE-capable resource; "
            f"{resource} is not TEE-capable."
        )
    elif resource.status == ResourceStatus.RETIRED:
        problems["resource"] = f"{resource} is retired."
    if pool.committee_id != charter.committee_id:
        problems["pool"] = f"{pool.name} is another committee's pool."
    elif pool.expired_at is not None or pool.period_end < timezone.localdate():
        problems["pool"] = f"The period of {pool.name} has ended."
    if period_start and period_end and "pool" not in problems:
        if period_end < period_start:
            problems["period_end"] = "The period cannot end before it starts."
        elif period_start < pool.period_start or period_end > pool.period_end:
            problems["period_start"] = (
                f"The period must lie within the pool's ({pool.period_start:%Y-%m-%d} to {pool.period_end:%Y-%m-%d})."
            )
    return problems


def _require_eligible(request: CreditRequest) -> None:
    """Refuse, field by field, a request whose charter, resource, pool or period break the rules."""
    problems = eligibility_problems(
        charter=request.charter,
        resource=request.resource,
        pool=request.pool,
        period_start=request.period_start,
        period_end=request.period_end,
        amount=request.amount,
    )
    if problems:
        raise ValidationError(problems)


def _check_transition(request: CreditRequest, target: str) -> None:
    check_transition("credit request", request.status, target, REQUEST_TRANSITIONS)


@transaction.atomic
def create_request(actor, *, submit: bool = False, **fields) -> CreditRequest:
    """Draft a request for credits (and submit it at once with `submit`)."""
    data = {k: v for k, v in fields.items() if k in REQUEST_FIELDS}
    charter, pool = data.get("charter"), data.get("pool")
    if charter is None or pool is None or data.get("resource") is None:
        raise ValidationError("A request names a charter, a resource and a pool.")
    require(
        permissions.may_request_credits_for(actor, charter),
        "Only people of the charter's lead or participating organizations request credits for it.",
    )
    data.setdefault("period_start", pool.period_start)
    data.setdefault("period_end", pool.period_end)
    data["period_start"] = data["period_start"] or pool.period_start
    data["period_end"] = data["period_end"] or pool.period_end
    if "amount" in data:
        data["amount"] = posting.credits(data["amount"])
    request = CreditRequest(requested_by=actor, **data)
    request.full_clean()
    _require_eligible(request)
    request.save()
    record_event(actor, "credit_request.created", request, after=snapshot(request, REQUEST_FIELDS))
    if submit:
        request = submit_request(actor, request)
    return request


@transaction.atomic
def update_request(actor, request: CreditRequest, **fields) -> CreditRequest:
    """Change a draft; its requester (or an administrator) only."""
    request = CreditRequest.objects.select_for_update().get(pk=request.pk)
    require(permissions.may_change_request(actor, request), "Only the requester changes a draft request.")
    if request.status != RequestStatus.DRAFT:
        raise DomainError("Only a draft request can be changed; this one is " + request.get_status_display().lower())
    before = snapshot(request, REQUEST_FIELDS)
    for name, value in fields.items():
        if name in REQUEST_FIELDS:
            setattr(request, name, posting.credits(value) if name == "amount" else value)
    request.full_clean()
    _require_eligible(request)
    request.save()
    record_event(actor, "credit_request.updated", request, before=before, after=snapshot(request, REQUEST_FIELDS))
    return request


@transaction.atomic
def submit_request(actor, request: CreditRequest) -> CreditRequest:
    """Put a draft before the committee: co-chairs sign it at or below the dual-control limit;
    above it a ballot decides."""
    request = (
        CreditRequest.objects.select_for_update(of=("self",))
        .select_related("charter", "resource", "pool")
        .get(pk=request.pk)
    )
    require(permissions.may_change_request(actor, request), "Only the requester submits a request.")
    _check_transition(request, RequestStatus.SUBMITTED)
    _require_eligible(request)
    request.status = RequestStatus.SUBMITTED
    request.submitted_at = timezone.now()
    request.save(update_fields=["status", "submitted_at", "updated_at"])
    record_event(
        actor,
        "credit_request.submitted",
        request,
        before={"status": RequestStatus.DRAFT},
        after={"status": request.status, "needs_ballot": request.needs_ballot},
    )
    return request


@transaction.atomic
def withdraw_request(actor, request: CreditRequest) -> CreditRequest:
    """The requester takes the request back; possible until it is decided."""
    request = CreditRequest.objects.select_for_update().get(pk=request.pk)
    require(permissions.may_change_request(actor, request), "Only the requester withdraws a request.")
    _check_transition(request, RequestStatus.WITHDRAWN)
    before = request.status
    request.status = RequestStatus.WITHDRAWN
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at", "updated_at"])
    record_event(
        actor, "credit_request.withdrawn", request, before={"status": before}, after={"status": request.status}
    )
    return request


def _validated_award(request: CreditRequest, amount, reason_code: str) -> Decimal:
    amount = request.amount if amount in (None, "") else posting.credits(amount)
    if amount <= 0:
        raise ValidationError({"amount": "Award a positive number of credits, or reject the request."})
    if amount > request.amount:
        asked = posting.fmt_credits(request.amount)
        raise ValidationError({"amount": f"The request asks for {asked} credits; award at most that."})
    if amount < request.amount and not reason_code:
        raise ValidationError({"reason_code": "Say why less than was requested is awarded."})
    if reason_code and reason_code not in DecisionReason.values:
        raise ValidationError({"reason_code": f"Unknown reason '{reason_code}'."})
    return amount


@transaction.atomic
def sign_request(actor, request: CreditRequest, *, amount=None, reason_code: str = "", note: str = "") -> CreditRequest:
    """A co-chair signs a submitted request at or below the dual-control limit.

    When the co-chairs of every sector have signed, the request is approved and its award
    allocated from the pool in this same transaction; one signature, or two from one sector,
    do nothing more. The award is the smallest amount any signer agreed to. If the pool
    cannot fund it, nothing is written (the signature neither) and the answer is 409 with the
    pool's available amount.
    """
    request = (
        CreditRequest.objects.select_for_update(of=("self",))
        .select_related("charter__committee", "pool__committee", "resource", "requested_by")
        .get(pk=request.pk)
    )
    committee = request.pool.committee
    seat = co_chair_seat(actor, committee)
    require(seat is not None, "Only the co-chairs of the committee that holds the pool sign its credit requests.")
    assert seat is not None  # for the type checker: require() refused otherwise
    require(
        request.requested_by_id != actor.pk,
        "You asked for these credits: dual control means two other people sign them.",
    )
    if request.status != RequestStatus.SUBMITTED:
        raise DomainError(
            f"Only a submitted request can be signed; this one is {request.get_status_display().lower()}.",
            code="not_submitted",
        )
    problems = committee.constitution_problems()
    if problems:
        raise DomainError(
            f"{committee} is not constituted, so its co-chairs cannot sign for it. {' '.join(problems)}",
            code="not_constituted",
        )
    award = _validated_award(request, amount, reason_code)
    # Under the ledger lock, so two requests of one charter signed at once are counted together.
    posting.lock_ledger()
    reason = ballot_reason(request)
    if reason:
        raise DomainError(f"Only a passed ballot approves this request: {reason}.", code="needs_ballot")
    mark_constituted(actor, committee)
    if request.signatures.filter(signer=actor).exists():
        raise DomainError("You have already signed this request.", code="already_signed")
    signature = CreditSignature.objects.create(
        request=request, signer=actor, sector=seat.organization.sector, amount=award, reason_code=reason_code, note=note
    )
    record_event(
        actor,
        "credit_request.signed",
        request,
        after={"sector": signature.sector, "amount": award, "reason_code": reason_code, "note": note},
    )
    signatures = list(request.signatures.all())
    if set(Sector.values) <= {s.sector for s in signatures}:
        binding = min(signatures, key=lambda s: (s.amount, -s.pk))
        _approve(actor, request, amount=binding.amount, reason_code=binding.reason_code, note=binding.note)
    return request


@transaction.atomic
def reject_request(actor, request: CreditRequest, *, reason_code: str, note: str = "", ballot_id=None) -> CreditRequest:
    """A co-chair turns down a submitted request at or below the limit (one is enough to
    refuse: dual control guards spending), unless their organization is party to it. Above
    the limit only a ballot decides."""
    request = (
        CreditRequest.objects.select_for_update(of=("self",)).select_related("charter__committee").get(pk=request.pk)
    )
    if ballot_id is None:
        require(
            permissions.may_decide_requests(actor, request.charter.committee),
            "Only the committee's co-chairs reject credit requests.",
        )
        if request.amount > settings.DUAL_CONTROL_LIMIT:
            raise DomainError("Above the dual-control limit only a ballot decides this request.", code="needs_ballot")
        if actor.organization_id in interested_organizations(request):
            raise DomainError(
                "Your organization is party to this request: the committee decides it by ballot.", code="needs_ballot"
            )
    if reason_code not in DecisionReason.values:
        raise ValidationError({"reason_code": "Say why the request is rejected."})
    _check_transition(request, RequestStatus.REJECTED)
    request.status = RequestStatus.REJECTED
    request.reason_code = reason_code
    request.decision_note = note
    request.decided_at = timezone.now()
    request.decided_by = actor if actor is not None and actor.is_authenticated else None
    request.ballot_id = ballot_id
    request.save()
    record_event(
        actor,
        "credit_request.rejected",
        request,
        before={"status": RequestStatus.SUBMITTED},
        after={"status": request.status, "reason_code": reason_code, "note": note, "ballot": ballot_id},
    )
    return request


def _approve(actor, request: CreditRequest, *, amount: Decimal, reason_code="", note="", ballot_id=None) -> None:
    """Approve a locked, submitted request and allocate `amount` from its pool, in the
    caller's transaction (which holds the request's row lock and the ledger lock)."""
    _check_transition(request, RequestStatus.APPROVED)
    pool = CreditPool.objects.select_for_update(of=("self",)).select_related("account").get(pk=request.pool_id)
    request.pool = pool
    problems = eligibility_problems(charter=request.charter, resource=request.resource, pool=pool)
    if problems:
        raise DomainError(next(iter(problems.values())), code="not_eligible")
    account = pools.open_account(request.charter, actor)
    locked = posting.lock_accounts([pool.account, account])
    pool_account, account = locked[pool.account.pk], locked[account.pk]
    if amount > pool_account.balance:
        raise DomainError(
            f"{pool.name} has only {posting.fmt_credits(pool_account.balance)} credits available; "
            f"this award needs {posting.fmt_credits(amount)}.",
            code="pool_exhausted",
            available=str(pool_account.balance),
        )
    allocation = posting.post(
        TransactionKind.ALLOCATION,
        [posting.Leg(pool_account, pool, -amount), posting.Leg(account, pool, amount)],
        actor=actor,
        memo=f"Request #{request.pk}: {posting.fmt_credits(amount)} credits on {request.resource}",
    )
    status = RequestStatus.APPROVED if amount == request.amount else RequestStatus.PARTIALLY_APPROVED
    request.status = status
    request.approved_amount = amount
    request.reason_code = reason_code if status == RequestStatus.PARTIALLY_APPROVED else ""
    request.decision_note = note
    request.decided_at = timezone.now()
    request.decided_by = actor if actor is not None and actor.is_authenticated else None
    request.ballot_id = ballot_id
    request.allocation = allocation
    request.save()
    record_event(
        actor,
        "credit_request.approved",
        request,
        before={"status": RequestStatus.SUBMITTED},
        after={
            "status": status,
            "approved_amount": amount,
            "reason_code": request.reason_code,
            "allocation": allocation.pk,
            "ballot": ballot_id,
        },
    )


@transaction.atomic
def approve_by_ballot(actor, request: CreditRequest, *, ballot_id: int) -> CreditRequest:
    """Apply a passed ballot: approve and allocate, exactly once. If the pool can no longer
    fund the whole request, it awards what the pool holds (a partial award saying why), or
    rejects the request when the pool is empty; a passed ballot never fails to close."""
    request = (
        CreditRequest.objects.select_for_update(of=("self",)).select_related("charter", "resource").get(pk=request.pk)
    )
    if request.status != RequestStatus.SUBMITTED:
        # Withdrawn meanwhile, or this outcome was already applied: nothing more to do.
        return request
    posting.lock_ledger()
    pool = CreditPool.objects.select_for_update(of=("self",)).select_related("account").get(pk=request.pool_id)
    available = posting.lock_accounts([pool.account])[pool.account.pk].balance
    if available >= request.amount:
        _approve(actor, request, amount=request.amount, ballot_id=ballot_id)
    elif available > 0:
        _approve(
            actor,
            request,
            amount=available,
            reason_code=DecisionReason.POOL_LIMITED,
            note=f"The ballot passed, but {pool.name} held only {posting.fmt_credits(available)} credits.",
            ballot_id=ballot_id,
        )
    else:
        reject_request(
            actor,
            request,
            reason_code=DecisionReason.POOL_LIMITED,
            note=f"The ballot passed, but {pool.name} had no credits left.",
            ballot_id=ballot_id,
        )
    request.refresh_from_db()
    return request
