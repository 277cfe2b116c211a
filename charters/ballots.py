"""What a ballot needs to know about a charter (the contract of governance.subjects).

A ballot on a charter decides the version before the committee: the charter itself while it
is under review, or a proposed amendment of an approved charter. How each outcome lands:

- passed → the charter is approved (an amendment comes into force);
- rejected → the charter is rejected (an amendment is refused; the version in force stays);
- deadlocked, no_quorum → nothing changes: the charter stays under review (the amendment stays
  proposed). A deadlock starts conflict resolution (DESIGN.md 2.1): the co-chairs may put it
  to a second ballot, or send it back to its authors with request_revision. Sending it back
  automatically would throw away two sectors' agreement on everything but the disputed point,
  and a missed quorum says nothing about the charter at all. The outcome is in the audit log.

Every change goes through charters.services.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from charters import selectors
from charters.choices import CharterStatus, VersionStatus
from charters.models import Charter
from charters.services import lifecycle
from governance.choices import BallotStatus
from governance.exceptions import DomainError
from governance.models import Ballot


def get_subject(subject_id: int, *, for_update: bool = False) -> Charter:
    """The charter; raises Charter.DoesNotExist. `for_update` locks its row."""
    charters = Charter.objects.select_related("lead_organization", "committee")
    if for_update:
        charters = charters.select_for_update(of=("self",))
    return charters.get(pk=subject_id)


def committee_id(subject: Charter) -> int | None:
    """A charter is decided by the committee it is filed with."""
    return subject.committee_id


def parties(subject: Charter) -> set[int]:
    """The lead and participating organizations: their members are recused."""
    return subject.party_organization_ids()


def check_can_open(subject: Charter) -> None:
    """Refuse a ballot unless the charter (or its amendment) is under review with both technical
    reviews passed and every data use agreement it names signed by all its parties."""
    problems = selectors.ballot_problems(subject)
    if problems:
        raise DomainError("No ballot can open on this charter yet. " + " ".join(problems), code="charter_not_ready")


def apply_outcome(subject: Charter, ballot, actor) -> None:
    """Apply the closed ballot's outcome through the charter services (see the module doc)."""
    lifecycle.apply_ballot_outcome(actor, subject, ballot)


def describe(subject: Charter) -> str:
    version = selectors.pending_version(subject)
    if version is not None and version.is_amendment:
        return f"Amendment (version {version.number}) of the charter “{subject.title}”"
    return f"Charter “{subject.title}”"


def url(subject: Charter) -> str:
    """The charter's page; for an amendment, what it changes (the diff the ballot decides on)."""
    version = selectors.pending_version(subject)
    if version is not None and version.is_amendment and version.number > 1:
        diff = reverse("charters:diff", args=[subject.pk])
        return f"{diff}?from={version.number - 1}&to={version.number}"
    return reverse("charters:detail", args=[subject.pk])


def resolve_ballot(ballot_id: int | None) -> Ballot | None:
    """The closed ballot with this id, for the API steps that apply a ballot's outcome; None
    when there is none (the service then refuses: only a ballot approves or rejects a charter)."""
    if ballot_id is None:
        return None
    return Ballot.objects.filter(pk=ballot_id, status=BallotStatus.CLOSED).first()


def candidates(committee_ids: set[int]) -> list[tuple[int, str]]:
    """Charters under review, and approved or active ones with an amendment proposed."""
    charters = (
        Charter.objects.filter(committee_id__in=committee_ids)
        .filter(
            Q(status=CharterStatus.UNDER_REVIEW)
            | Q(versions__status=VersionStatus.PROPOSED, versions__is_amendment=True)
        )
        .distinct()
        .order_by("title")[:100]
    )
    return [(charter.pk, f"Charter “{charter.title}”") for charter in charters]
