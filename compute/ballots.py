"""What a ballot needs to know about a credit request (the contract of governance/subjects.py).

Above settings.DUAL_CONTROL_LIMIT a credit request is decided by a ballot of the committee;
a passed ballot approves it and allocates the award from the pool in the transaction that
closes the ballot, exactly once.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from compute.choices import DecisionReason, RequestStatus
from compute.models import CreditRequest
from compute.selectors import organizations_behind
from compute.services.credits import posting, requests
from governance.choices import Outcome
from governance.exceptions import DomainError


def get_subject(subject_id: int, *, for_update: bool = False) -> CreditRequest:
    """The credit request; locked for the closing transaction with `for_update`."""
    requests = CreditRequest.objects.select_related("charter", "charter__committee", "resource", "pool", "requested_by")
    if for_update:
        # Lock the request row only: the related rows are not the ballot's to lock.
        requests = requests.select_for_update(of=("self",))
    return requests.get(pk=subject_id)


def committee_id(subject: CreditRequest) -> int | None:
    """A request is decided by the committee that holds the pool it draws on."""
    return subject.pool.committee_id


def parties(subject: CreditRequest) -> set[int]:
    """The organizations behind the request: the charter's lead and the requester's own.
    Their members are recused from the ballot."""
    return organizations_behind(subject)


def check_can_open(subject: CreditRequest) -> None:
    """A ballot decides only a submitted request above the dual-control limit."""
    if subject.status != RequestStatus.SUBMITTED:
        raise DomainError(
            f"Only a submitted credit request can be put to a ballot; this one is "
            f"{subject.get_status_display().lower()}.",
            code="not_submitted",
        )
    if not subject.needs_ballot:
        raise DomainError(
            f"This request is at or below the dual-control limit of {settings.DUAL_CONTROL_LIMIT:,} credits and "
            "no co-chair is party to it: the two co-chairs sign it instead of a ballot.",
            code="dual_control",
        )
    problems = requests.eligibility_problems(charter=subject.charter, resource=subject.resource, pool=subject.pool)
    if problems:
        raise DomainError(next(iter(problems.values())), code="not_eligible")


def apply_outcome(subject: CreditRequest, ballot, actor) -> None:
    """Passed: approve and allocate (once; a second call finds the request decided). Rejected:
    reject. Deadlocked or without quorum, the request stays submitted for a second ballot."""
    if subject.status != RequestStatus.SUBMITTED:
        return
    if ballot.outcome == Outcome.PASSED:
        requests.approve_by_ballot(actor, subject, ballot_id=ballot.pk)
    elif ballot.outcome == Outcome.REJECTED:
        requests.reject_request(
            actor,
            subject,
            reason_code=DecisionReason.BALLOT_REJECTED,
            note=f"Ballot #{ballot.pk} rejected the request.",
            ballot_id=ballot.pk,
        )
    subject.refresh_from_db()


def describe(subject: CreditRequest) -> str:
    amount = posting.fmt_credits(subject.amount)
    return f"Credit request #{subject.pk}: {amount} credits on {subject.resource} for {subject.charter}"


def url(subject: CreditRequest) -> str:
    return reverse("compute:request-detail", args=[subject.pk])


def candidates(committee_ids: set[int]) -> list[tuple[int, str]]:
    """Submitted requests above the dual-control limit: only a ballot decides them."""
    pending = (
        CreditRequest.objects.filter(
            charter__committee_id__in=committee_ids,
            status=RequestStatus.SUBMITTED,
            amount__gt=settings.DUAL_CONTROL_LIMIT,
        )
        .select_related("charter", "resource")
        .order_by("submitted_at")[:100]
    )
    return [(request.pk, describe(request)) for request in pending]
