"""What a ballot needs to know about its subject, asked of the app that owns the subject.

Each subject type names a module that provides these functions (a motion has no module: it
has no parties, nothing to check and nothing to apply):

    get_subject(subject_id: int, *, for_update: bool = False) -> Model
        The subject; raises the model's DoesNotExist when there is none. With `for_update`
        the row is locked (select_for_update) for the closing transaction.
    parties(subject) -> set[int]
        Ids of the organizations that are party to the subject; their members are recused
        automatically (DESIGN.md 2.1).
    check_can_open(subject) -> None
        Raises governance.exceptions.DomainError saying why no ballot on the subject may open
        now (a charter whose DUAs are unsigned, a request at or below the dual-control limit…).
    apply_outcome(subject, ballot, actor) -> None
        Called inside the transaction that closes the ballot, with `ballot.outcome` set; applies
        the outcome through the subject app's own services (approve, reject, allocate…).
    describe(subject) -> str
        A one-line title for lists, tallies and minutes.
    url(subject) -> str
        The subject's page.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from governance.choices import SubjectType

SUBJECT_MODULES: dict[str, str | None] = {
    SubjectType.CHARTER: "charters.ballots",
    SubjectType.CREDIT_REQUEST: "compute.ballots",
    SubjectType.ROADMAP: "roadmap.ballots",
    SubjectType.SOP: "governance.sop_ballots",
    SubjectType.MOTION: None,
}


def subject_module(subject_type: str) -> ModuleType | None:
    """The module that answers for a subject type, or None for a motion."""
    path = SUBJECT_MODULES[subject_type]
    return importlib.import_module(path) if path else None
