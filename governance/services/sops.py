"""The write path of standard operating procedures: drafting versions and putting them to a
ballot. Adoption itself happens when a ballot on the version passes (governance.sop_ballots)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from governance.audit import record_event
from governance.choices import SOP_VERSION_TRANSITIONS, Outcome, SOPCategory, SOPVersionStatus, SubjectType
from governance.exceptions import DomainError, IllegalTransition
from governance.models import SOP, Ballot, Committee, SOPVersion, User
from governance.permissions import can_manage_committee, require
from governance.services.ballots import create_ballot
from governance.subjects import require_decision

SOP_FIELDS = ["committee", "title", "category"]


def _may_edit(actor: User | None, committee: Committee) -> None:
    require(
        actor is None or can_manage_committee(actor, committee),
        "Only administrators and this committee's co-chairs or secretary write its procedures.",
    )


@transaction.atomic
def create_sop(
    actor: User | None,
    *,
    committee: Committee,
    title: str,
    body: str,
    category: str = SOPCategory.OTHER,
    change_summary: str = "",
) -> SOP:
    """Write a new procedure; its text starts as draft version 1."""
    _may_edit(actor, committee)
    sop = SOP(committee=committee, title=title, category=category, created_by=actor)
    sop.full_clean()
    sop.save()
    version = SOPVersion(
        sop=sop, number=1, body=body, change_summary=change_summary or "First version.", drafted_by=actor
    )
    version.full_clean()
    version.save()
    record_event(actor, "sop.created", sop, after={"title": title, "category": category, "version": version.pk})
    return sop


@transaction.atomic
def draft_sop_version(actor: User | None, sop: SOP, *, body: str, change_summary: str = "") -> SOPVersion:
    """Start the next version of a procedure. One draft at a time: the last one is finished
    (adopted or rejected) before another is started."""
    sop = SOP.objects.select_for_update().get(pk=sop.pk)
    _may_edit(actor, sop.committee)
    pending = sop.versions.filter(status=SOPVersionStatus.DRAFT).first()
    if pending is not None:
        raise DomainError(
            f"Version {pending.number} of this procedure is still a draft; edit it or put it to a ballot first.",
            code="draft_pending",
        )
    number = (sop.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = SOPVersion(sop=sop, number=number, body=body, change_summary=change_summary, drafted_by=actor)
    version.full_clean()
    version.save()
    record_event(actor, "sop.version_drafted", version, after={"number": number, "change_summary": change_summary})
    return version


@transaction.atomic
def update_sop_version(actor: User, version: SOPVersion, *, body: str, change_summary: str | None = None) -> SOPVersion:
    """Edit a draft. Adopted, superseded and rejected texts are frozen, and so is a draft
    while a ballot on it is open (members vote on the text they read)."""
    version = SOPVersion.objects.select_for_update().select_related("sop__committee").get(pk=version.pk)
    _may_edit(actor, version.sop.committee)
    if version.status != SOPVersionStatus.DRAFT:
        raise DomainError(
            f"Version {version.number} is {version.get_status_display().lower()}; its text is frozen.",
            code="version_frozen",
        )
    if Ballot.objects.on(version).open().exists():
        raise DomainError("A ballot on this version is open; its text cannot change.", code="version_on_ballot")
    before = {"body": version.body, "change_summary": version.change_summary}
    version.body = body
    if change_summary is not None:
        version.change_summary = change_summary
    version.full_clean()
    version.save()
    record_event(
        actor,
        "sop.version_updated",
        version,
        before=before,
        after={"body": body, "change_summary": version.change_summary},
    )
    return version


def put_sop_version_to_ballot(actor: User, version: SOPVersion, *, closes_at=None, title: str = "") -> Ballot:
    """Prepare the ballot that adopts a draft version (double supermajority by default)."""
    sop = version.sop
    return create_ballot(
        actor,
        committee=sop.committee,
        title=title or f"Adopt {sop.title}, version {version.number}",
        subject_type=SubjectType.SOP,
        subject_id=version.pk,
        closes_at=closes_at,
        description=version.change_summary,
    )


def _move(version: SOPVersion, target: str) -> None:
    legal = SOP_VERSION_TRANSITIONS[version.status]
    if target not in legal:
        raise IllegalTransition("SOP version", version.status, target, list(legal))


def adopt_sop_version(actor: User | None, version: SOPVersion, ballot: Ballot) -> SOPVersion:
    """Put a version in force after its ballot passed; the version it replaces is superseded.
    Runs inside the transaction that closes the ballot."""
    require_decision(ballot, version, Outcome.PASSED, "adopt a procedure")
    current = version.sop.versions.select_for_update().filter(status=SOPVersionStatus.ADOPTED).first()
    _move(version, SOPVersionStatus.ADOPTED)
    if current is not None:
        _move(current, SOPVersionStatus.SUPERSEDED)
        current.status = SOPVersionStatus.SUPERSEDED
        current.save(update_fields=["status", "updated_at"])
        record_event(actor, "sop.version_superseded", current, after={"by": version.pk, "ballot": ballot.pk})
    version.status = SOPVersionStatus.ADOPTED
    version.adopted_at = timezone.now()
    version.save(update_fields=["status", "adopted_at", "updated_at"])
    record_event(actor, "sop.version_adopted", version, after={"ballot": ballot.pk, "number": version.number})
    return version


def reject_sop_version(actor: User | None, version: SOPVersion, ballot: Ballot) -> SOPVersion:
    """Record that the committee turned a version down (the sectors agreed: rejected)."""
    require_decision(ballot, version, Outcome.REJECTED, "reject a procedure")
    _move(version, SOPVersionStatus.REJECTED)
    version.status = SOPVersionStatus.REJECTED
    version.save(update_fields=["status", "updated_at"])
    record_event(actor, "sop.version_rejected", version, after={"ballot": ballot.pk, "number": version.number})
    return version
