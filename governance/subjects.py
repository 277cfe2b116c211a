"""The one seam between ballots and what they decide (DESIGN.md §4).

Every kind of ballot subject is answered for by one module of the app that owns it, and that
module implements `BallotSubject` with plain functions (mypy checks each module against the
protocol; see tests/governance/test_subjects.py). A motion has no subject: nothing to check,
no parties, nothing to apply. Ballot queries about a subject ("the open ballot on this
charter") are on `BallotQuerySet` (`Ballot.objects.on(subject).open()`), so no app imports
another app's services to ask about ballots.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol, cast, runtime_checkable

from django.db.models import Model

from governance.choices import BallotStatus, SubjectType


@runtime_checkable
class BallotSubject(Protocol):
    """What a ballot needs to know about one kind of subject."""

    def get_subject(self, subject_id: int, *, for_update: bool = False) -> Any:
        """The subject; raises the model's DoesNotExist when there is none. With `for_update`
        the row is locked (select_for_update) for the closing transaction."""

    def committee_id(self, subject: Any) -> int | None:
        """The committee the subject belongs to: only that committee's ballots decide it."""

    def parties(self, subject: Any) -> set[int]:
        """Ids of the organizations party to the subject; their members are recused (2.1)."""

    def check_can_open(self, subject: Any) -> None:
        """Raise DomainError saying why no ballot on the subject may open now."""

    def apply_outcome(self, subject: Any, ballot: Any, actor: Any) -> None:
        """Apply the closed ballot's outcome, inside the closing transaction, through the
        subject app's own services."""

    def describe(self, subject: Any) -> str:
        """A one-line title for lists, tallies and minutes."""

    def url(self, subject: Any) -> str:
        """The subject's page."""

    def candidates(self, committee_ids: set[int]) -> list[tuple[int, str]]:
        """(id, description) of the subjects of these committees that may be put to a ballot
        now, for the ballot form's picker (a bounded list, in a fixed number of queries)."""


# The module answering for each subject type; None for a motion. Imported when first asked,
# because those modules import the governance models this module is loaded beside.
SUBJECT_MODULES: dict[str, str | None] = {
    SubjectType.CHARTER: "charters.ballots",
    SubjectType.CREDIT_REQUEST: "compute.ballots",
    SubjectType.ROADMAP: "roadmap.ballots",
    SubjectType.SOP: "governance.sop_ballots",
    SubjectType.MOTION: None,
}

# The model whose rows each subject type names (app_label.model_name).
SUBJECT_MODELS: dict[str, str] = {
    "charters.charter": SubjectType.CHARTER,
    "compute.creditrequest": SubjectType.CREDIT_REQUEST,
    "roadmap.roadmap": SubjectType.ROADMAP,
    "governance.sopversion": SubjectType.SOP,
}


def subject_module(subject_type: str) -> BallotSubject | None:
    """The module that answers for a subject type, or None for a motion."""
    path = SUBJECT_MODULES[subject_type]
    return cast(BallotSubject, importlib.import_module(path)) if path else None


def subject_type_of(subject: Model) -> str:
    """The subject type a model instance is decided as ("charter" for a Charter…)."""
    return SUBJECT_MODELS[subject._meta.label_lower]


def refuse_while_on_ballot(subject: Model, noun: str | None = None) -> None:
    """What a ballot is deciding must not move under it (DESIGN.md 2.7): refuse a change of
    the subject's status while a ballot on it is open."""
    from governance.exceptions import DomainError
    from governance.models import Ballot

    ballot = Ballot.objects.on(subject).open().first()
    if ballot is not None:
        raise DomainError(
            f"A ballot on this {noun or SubjectType(subject_type_of(subject)).label.lower()} is open ('{ballot}'); "
            "nothing changes it until the ballot closes.",
            code="ballot_open",
            ballot=ballot.pk,
        )


def refuse_if_recused(actor: Any, subject: Model) -> None:
    """A member recused from the open ballot on a subject acts on it in no other way while that
    ballot is open (DESIGN.md 2.7): no review, no step, no signature."""
    from django.core.exceptions import PermissionDenied

    from governance.models import Recusal

    if actor is None or not getattr(actor, "is_authenticated", False):
        return
    recusal = (
        Recusal.objects.filter(
            user=actor,
            ballot__status=BallotStatus.OPEN,
            ballot__subject_type=subject_type_of(subject),
            ballot__subject_id=subject.pk,
        )
        .select_related("ballot")
        .first()
    )
    if recusal is not None:
        raise PermissionDenied(
            f"You are recused from the open ballot '{recusal.ballot}' ({recusal.reason}); "
            "you take no other part in this subject until it closes."
        )


def require_decision(ballot: Any, subject: Model, outcome: str, what: str, *, message: str | None = None) -> None:
    """Refuse unless `ballot` is a closed ballot on this very subject with this outcome: acts
    that only a ballot may take check that a ballot took them (DESIGN.md 2.7)."""
    from governance.exceptions import DomainError
    from governance.models import Ballot

    if (
        not isinstance(ballot, Ballot)
        or ballot.status != BallotStatus.CLOSED
        or ballot.outcome != outcome
        or ballot.subject_type != subject_type_of(subject)
        or ballot.subject_id != subject.pk
    ):
        raise DomainError(message or f"Only a ballot of the committee can {what}.", code="ballot_required")
