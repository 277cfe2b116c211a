"""What a ballot needs to know about a standard operating procedure (see governance.subjects).

A ballot on an SOP decides one draft version: passed adopts it (superseding the version in
force), rejected records the refusal, and a deadlock or a missed quorum leaves it a draft that
may be put to a second ballot.
"""

from __future__ import annotations

from django.urls import reverse

from governance.choices import Outcome, SOPVersionStatus
from governance.exceptions import DomainError
from governance.models import SOPVersion


def get_subject(subject_id: int, *, for_update: bool = False) -> SOPVersion:
    rows = SOPVersion.objects.select_related("sop__committee")
    if for_update:
        rows = rows.select_for_update(of=("self",))
    return rows.get(pk=subject_id)


def committee_id(subject: SOPVersion) -> int | None:
    """A procedure's version is decided by the committee the procedure belongs to."""
    return subject.sop.committee_id


def parties(subject: SOPVersion) -> set[int]:
    """A procedure of the body has no party organizations: nobody is recused automatically."""
    return set()


def check_can_open(subject: SOPVersion) -> None:
    if subject.status != SOPVersionStatus.DRAFT:
        raise DomainError(
            f"Version {subject.number} of {subject.sop} is {subject.get_status_display().lower()}; "
            "only a draft version is put to a ballot.",
            code="version_not_draft",
        )


def apply_outcome(subject: SOPVersion, ballot, actor) -> None:
    from governance.services.sops import adopt_sop_version, reject_sop_version

    if ballot.outcome == Outcome.PASSED:
        adopt_sop_version(actor, subject, ballot)
    elif ballot.outcome == Outcome.REJECTED:
        reject_sop_version(actor, subject, ballot)
    # Deadlocked or without quorum: the version stays a draft for a second ballot.


def describe(subject: SOPVersion) -> str:
    return f"SOP: {subject.sop.title}, version {subject.number}"


def url(subject: SOPVersion) -> str:
    return reverse("sops:detail", args=[subject.sop_id]) + f"#version-{subject.number}"


def candidates(committee_ids: set[int]) -> list[tuple[int, str]]:
    """Draft versions of the committees' procedures."""
    drafts = (
        SOPVersion.objects.filter(sop__committee_id__in=committee_ids, status=SOPVersionStatus.DRAFT)
        .select_related("sop")
        .order_by("sop__title", "number")[:100]
    )
    return [(version.pk, describe(version)) for version in drafts]
