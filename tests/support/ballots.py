"""Closing ballots in tests as the rules allow (DESIGN.md 2.7)."""

from __future__ import annotations

from governance import services
from governance.choices import BallotStatus
from governance.models import Ballot


def close_by_both(ballot: Ballot, first_chair, second_chair) -> Ballot:
    """Close a ballot now: at once when every eligible member has voted, otherwise as each
    sector's co-chair asks in turn (the second request closes it)."""
    ballot = services.close_ballot(first_chair, ballot)
    if ballot.status != BallotStatus.CLOSED:
        ballot = services.close_ballot(second_chair, ballot)
    return ballot
