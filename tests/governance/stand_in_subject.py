"""A stand-in for charters.ballots in tests: the subject contract on the real Charter model.

It records each outcome it is asked to apply as an audit event, so tests can see that closing
applied the outcome, and how many times.
"""

from __future__ import annotations

from charters.models import Charter
from governance.audit import record_event
from governance.exceptions import DomainError


def get_subject(subject_id: int, *, for_update: bool = False) -> Charter:
    rows = Charter.objects.select_for_update() if for_update else Charter.objects
    return rows.get(pk=subject_id)


def committee_id(subject: Charter) -> int | None:
    return subject.committee_id


def parties(subject: Charter) -> set[int]:
    return subject.party_organization_ids()


def check_can_open(subject: Charter) -> None:
    if subject.title.startswith("[blocked]"):
        raise DomainError("This charter's data use agreements are not all signed.")


def apply_outcome(subject: Charter, ballot, actor) -> None:
    record_event(actor, "charter.outcome_applied", subject, after={"ballot": ballot.pk, "outcome": ballot.outcome})


def describe(subject: Charter) -> str:
    return f"Charter: {subject.title}"


def url(subject: Charter) -> str:
    return f"/charters/{subject.pk}/"


def candidates(committee_ids: set[int]) -> list[tuple[int, str]]:
    return [(c.pk, c.title) for c in Charter.objects.filter(committee_id__in=committee_ids)[:100]]
