"""The charter lifecycle: each step of CHARTER_TRANSITIONS (charters.choices) is one function
of the same name, and `apply_ballot_outcome` lands a closed ballot on the charter or the
amendment it decided (the ballot hooks in charters.ballots call it)."""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Field, Max
from django.utils import timezone

from charters import permissions
from charters.choices import CHARTER_TRANSITIONS, CharterStatus, VersionStatus, legal_targets
from charters.models import Charter, CharterStepConsent, CharterVersion
from charters.selectors import data_contract_problems, pending_version
from charters.services.amendments import approve_amendment, reject_amendment
from charters.services.charters import decide_version, lock_charter, refuse_while_ballot_open, require_ballot_outcome
from charters.versions import snapshot
from governance.audit import record_event
from governance.choices import Outcome, Sector
from governance.exceptions import DomainError, IllegalTransition
from governance.models import User
from governance.outbox import enqueue
from governance.permissions import co_chair_seat, require
from governance.subjects import refuse_if_recused


def _is_system(actor) -> bool:
    """A scheduled task acts with no user."""
    return actor is None


def _start(charter: Charter, name: str) -> Charter:
    """Lock the charter and refuse the step unless the lifecycle allows it from here."""
    transition = CHARTER_TRANSITIONS[name]
    charter = lock_charter(charter)
    if charter.status not in transition.sources:
        raise IllegalTransition("charter", charter.status, transition.target, legal_targets(charter.status))
    return charter


def _finish(actor, charter: Charter, name: str, *, reason: str = "", **after: Any) -> Charter:
    if name not in BALLOT_STEPS and actor is not None:
        # A person's step never moves a charter a ballot is deciding, and a member recused
        # from that ballot takes no step on the charter at all (DESIGN.md 2.7).
        refuse_if_recused(actor, charter)
        refuse_while_ballot_open(charter)
    transition = CHARTER_TRANSITIONS[name]
    before = {"status": charter.status}
    charter.status = transition.target
    charter.status_reason = reason
    charter.save(update_fields=["status", "status_reason", "version", "updated_at"])
    # Consents were given to the charter as it stood: none outlives a change of status.
    CharterStepConsent.objects.filter(charter=charter, closed_at__isnull=True).update(closed_at=timezone.now())
    record_event(actor, f"charter.{name}", charter, before=before, after={"status": charter.status, **after})
    enqueue("charters.tasks.notify_charter_status", charter.pk, name)
    return charter


# The steps a closing ballot itself applies, inside its own transaction.
BALLOT_STEPS = ("approve", "reject")


def _need_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": f"Say why the charter is {what}."})
    return reason


@transaction.atomic
def submit(actor: User, charter: Charter) -> Charter:
    """Put a draft (or a revised charter) to the committee: its text becomes a new version."""
    require(
        permissions.may_take_step(actor, charter, "submit"),
        "Only the author and people of the lead organization submit this charter.",
    )
    charter = _start(charter, "submit")
    charter.full_clean()
    missing = {
        name: f"A charter is submitted with its {cast(Field, Charter._meta.get_field(name)).verbose_name}."
        for name in ("objectives", "national_impact")
        if not getattr(charter, name).strip()
    }
    if missing:
        raise ValidationError(missing)
    number = (charter.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    CharterVersion.objects.create(charter=charter, number=number, content=snapshot(charter), proposed_by=actor)
    return _finish(actor, charter, "submit", version=number)


@transaction.atomic
def start_review(actor: User, charter: Charter) -> Charter:
    """The secretary takes a submitted charter into technical review."""
    require(
        permissions.may_take_step(actor, charter, "start_review"),
        f"Only the secretary of {charter.committee} starts the review.",
    )
    charter = _start(charter, "start_review")
    return _finish(actor, charter, "start_review")


@transaction.atomic
def approve(actor, charter: Charter, *, ballot) -> Charter:
    """Apply a passed ballot: the version under review comes into force. Data contract first:
    every agreement the charter names must still be signed by all its parties."""
    require_ballot_outcome(ballot, charter, Outcome.PASSED, "approved")
    charter = _start(charter, "approve")
    problems = data_contract_problems(charter)
    if problems:
        raise DomainError("The charter cannot be approved: " + " ".join(problems))
    version = pending_version(charter)
    if version is not None:
        decide_version(version, VersionStatus.APPROVED)
        charter.version = version.number
    charter = _finish(actor, charter, "approve", ballot=ballot.pk, version=charter.version)
    # An approved charter has a credit account from the moment of approval (DESIGN 2.3),
    # opened in this transaction. Imported here: compute depends on charters, not the reverse.
    from compute.services.credits import pools

    pools.open_account(charter, actor)
    return charter


@transaction.atomic
def reject(actor, charter: Charter, *, ballot) -> Charter:
    """Apply a rejected ballot."""
    require_ballot_outcome(ballot, charter, Outcome.REJECTED, "rejected")
    charter = _start(charter, "reject")
    version = pending_version(charter)
    if version is not None:
        decide_version(version, VersionStatus.REJECTED)
    return _finish(actor, charter, "reject", ballot=ballot.pk)


@transaction.atomic
def request_revision(actor: User, charter: Charter, *, reason: str) -> Charter:
    """Send a charter under review back to its authors: after a failed technical review, or
    as the way out of a deadlocked ballot. Not while a ballot on it is open."""
    require(
        permissions.may_take_step(actor, charter, "request_revision"),
        f"Only the co-chairs and secretary of {charter.committee} request a revision.",
    )
    reason = _need_reason(reason, "sent back for revision")
    charter = _start(charter, "request_revision")
    refuse_while_ballot_open(charter)
    version = pending_version(charter)
    if version is not None:
        decide_version(version, VersionStatus.REVISION_REQUESTED)
    return _finish(actor, charter, "request_revision", reason=reason)


def _require_data_in_force(charter: Charter, what: str) -> None:
    problems = data_contract_problems(charter)
    if problems:
        raise DomainError(f"The charter cannot be {what}: " + " ".join(problems))


@transaction.atomic
def activate(actor: User, charter: Charter) -> Charter:
    """Start the work of an approved charter, once its data contract is in force."""
    require(
        permissions.may_take_step(actor, charter, "activate"),
        "Only the lead organization and the co-chairs activate a charter.",
    )
    charter = _start(charter, "activate")
    _require_data_in_force(charter, "activated")
    return _finish(actor, charter, "activate")


def _with_every_sector(actor: User, charter: Charter, name: str, reason: str) -> str | None:
    """Record the co-chair's request for a both-sector step. The reasons of every sector, once
    the last one has asked; None while another sector's co-chair has still to ask."""
    seat = co_chair_seat(actor, charter.committee)
    require(
        seat is not None,
        f"Only the co-chairs of {charter.committee} {CHARTER_TRANSITIONS[name].label.lower()} a charter, "
        "one for each sector.",
    )
    assert seat is not None
    sector = seat.organization.sector
    refuse_if_recused(actor, charter)
    refuse_while_ballot_open(charter)
    open_consents = CharterStepConsent.objects.filter(charter=charter, step=name, closed_at__isnull=True)
    if open_consents.filter(sector=sector).exists():
        raise DomainError(
            f"Your sector's co-chair has already asked to {name} this charter; "
            "it waits for the other sector's co-chair.",
            code="already_asked",
        )
    consent = CharterStepConsent.objects.create(
        charter=charter, step=name, sector=sector, given_by=actor, reason=reason
    )
    record_event(actor, "charter.step_consent", charter, after={"step": name, "sector": sector, "reason": reason})
    consents = list(open_consents)
    if {c.sector for c in consents} < set(Sector.values):
        enqueue("charters.tasks.notify_step_consent", consent.pk)
        return None
    return " / ".join(f"{Sector(c.sector).label}: {c.reason}" if c.reason else Sector(c.sector).label for c in consents)


@transaction.atomic
def suspend(actor: User | None, charter: Charter, *, reason: str) -> Charter:
    """Pause an active charter: with the co-chairs of both sectors, or by the portal itself
    when an agreement the charter relies on expires."""
    reason = _need_reason(reason, "suspended")
    charter = _start(charter, "suspend")
    if not _is_system(actor):
        joined = _with_every_sector(cast(User, actor), charter, "suspend", reason)
        if joined is None:
            return charter
        reason = joined
    return _finish(actor, charter, "suspend", reason=reason)


@transaction.atomic
def resume(actor: User, charter: Charter, *, reason: str = "") -> Charter:
    """Let a suspended charter run again, with the co-chairs of both sectors; its data
    contract must be in force."""
    charter = _start(charter, "resume")
    _require_data_in_force(charter, "resumed")
    joined = _with_every_sector(actor, charter, "resume", (reason or "").strip())
    if joined is None:
        return charter
    return _finish(actor, charter, "resume", reason=joined)


@transaction.atomic
def withdraw_step_consent(actor: User, charter: Charter, name: str) -> Charter:
    """A co-chair takes back their own open request to suspend, resume or terminate."""
    require(
        permissions.may_take_step(actor, charter, name),
        f"Only the co-chairs of {charter.committee} ask for, and withdraw, these steps.",
    )
    charter = lock_charter(charter)
    consent = CharterStepConsent.objects.filter(
        charter=charter, step=name, given_by=actor, closed_at__isnull=True
    ).first()
    if consent is None:
        raise DomainError(f"You have no open request to {name} this charter.", code="nothing_to_withdraw")
    consent.closed_at = timezone.now()
    consent.save(update_fields=["closed_at"])
    record_event(actor, "charter.step_consent_withdrawn", charter, after={"step": name, "sector": consent.sector})
    return charter


@transaction.atomic
def complete(actor: User, charter: Charter) -> Charter:
    """Close an active charter whose work is done."""
    require(
        permissions.may_take_step(actor, charter, "complete"),
        "Only the lead organization and the co-chairs complete a charter.",
    )
    charter = _start(charter, "complete")
    return _finish(actor, charter, "complete")


@transaction.atomic
def terminate(actor: User, charter: Charter, *, reason: str) -> Charter:
    """End a charter before its work is done, with the co-chairs of both sectors; an amendment
    before the committee is withdrawn."""
    reason = _need_reason(reason, "terminated")
    charter = _start(charter, "terminate")
    joined = _with_every_sector(actor, charter, "terminate", reason)
    if joined is None:
        return charter
    version = pending_version(charter)
    if version is not None:
        decide_version(version, VersionStatus.WITHDRAWN)
    return _finish(actor, charter, "terminate", reason=joined)


# The service of each transition, for the API and the pages.
TRANSITION_SERVICES = {
    "submit": submit,
    "start_review": start_review,
    "approve": approve,
    "reject": reject,
    "request_revision": request_revision,
    "activate": activate,
    "suspend": suspend,
    "resume": resume,
    "complete": complete,
    "terminate": terminate,
}


# Steps that ask the person for a reason.
REASONED_STEPS = {"request_revision", "suspend", "resume", "terminate"}


@transaction.atomic
def apply_ballot_outcome(actor, charter: Charter, ballot) -> Charter:
    """Apply a closed ballot's outcome to the charter or the amendment it decided.

    passed → approved (the amendment comes into force); rejected → rejected (the amendment is
    refused, the version in force stays). deadlocked and no_quorum change nothing: the charter
    stays under review (the amendment stays proposed) so the co-chairs can put it to a second
    ballot, as DESIGN.md 2.1 has it for a deadlock, or send it back with request_revision.
    The inconclusive outcome is recorded in the audit log.
    """
    charter = lock_charter(charter)
    version = pending_version(charter)
    amending = charter.status != CharterStatus.UNDER_REVIEW and version is not None and version.is_amendment
    if ballot.outcome == Outcome.PASSED:
        if amending:
            approve_amendment(actor, charter, ballot=ballot)
            return Charter.objects.get(pk=charter.pk)
        return approve(actor, charter, ballot=ballot)
    if ballot.outcome == Outcome.REJECTED:
        if amending:
            reject_amendment(actor, charter, ballot=ballot)
            return Charter.objects.get(pk=charter.pk)
        return reject(actor, charter, ballot=ballot)
    record_event(
        actor,
        "charter.ballot_inconclusive",
        charter,
        after={"ballot": ballot.pk, "outcome": ballot.outcome, "status": charter.status},
    )
    return charter
