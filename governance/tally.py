"""The tally of a ballot (DESIGN.md 2.1) as a pure function of per-sector counts.

Arithmetic is exact: shares are Fractions, the quorum comes in as a Decimal and is turned into
a Fraction, so a sector where 2 of 3 say yes meets a two-thirds bar, and 1 of 2 present meets a
quorum of one half. Only the published numbers are floats, at the very end.

For each sector s with E eligible (recused members already left out), Y yes, N no, A abstain:
    quorum in s   (Y + N + A) / E >= quorum      abstentions count to quorum
    support in s  p = Y / (Y + N), 0 when Y + N = 0
    parity        P = mean of p over sectors     each sector weighs the same
A sector with no eligible voter left cannot meet any quorum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from governance.choices import Outcome, VotingMethod

HALF = Fraction(1, 2)
TWO_THIRDS = Fraction(2, 3)


@dataclass(frozen=True)
class SectorCount:
    """What one sector brought to a ballot: eligible voters (after recusal), recused, votes."""

    eligible: int = 0
    recused: int = 0
    yes: int = 0
    no: int = 0
    abstain: int = 0

    def __post_init__(self) -> None:
        for name in ("eligible", "recused", "yes", "no", "abstain"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        if self.voted > self.eligible:
            raise ValueError(f"{self.voted} votes cast by {self.eligible} eligible voters")

    @property
    def voted(self) -> int:
        return self.yes + self.no + self.abstain


def as_fraction(value: Fraction | Decimal | int | str | float) -> Fraction:
    """An exact fraction; a float is read through its shortest decimal form (0.5 → 1/2)."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def support(count: SectorCount) -> Fraction:
    """Yes among those who took a side; abstentions are not support either way."""
    sided = count.yes + count.no
    return Fraction(count.yes, sided) if sided else Fraction(0)


def quorum_met(count: SectorCount, quorum: Fraction) -> bool:
    """Enough of the sector's eligible voters took part (an abstention is taking part)."""
    if count.eligible == 0:
        return False
    return Fraction(count.voted, count.eligible) >= quorum


def meets_sector_bar(method: str, share: Fraction) -> bool:
    """The per-sector bar of a method: a strict majority, or two thirds for a supermajority.

    For parity_majority this bar is what decides whether the sectors agree (deadlock).
    """
    if method == VotingMethod.DOUBLE_SUPERMAJORITY:
        return share >= TWO_THIRDS
    if method in (VotingMethod.DOUBLE_MAJORITY, VotingMethod.PARITY_MAJORITY):
        return share > HALF
    raise ValueError(f"Unknown voting method {method!r}")


def compute_tally(
    method: str,
    quorum: Fraction | Decimal | str | float,
    sectors: Mapping[str, SectorCount | Mapping[str, int]],
) -> dict:
    """The tally in DESIGN.md's shape, from the counts of every voting sector (SectorCounts,
    or plain mappings with the same keys).

    {"sectors": {s: {"eligible", "recused", "yes", "no", "abstain", "support", "quorum_met"}},
     "parity_support", "quorum_met", "outcome"}
    """
    if not sectors:
        raise ValueError("A tally needs at least one sector")
    sectors = {
        name: count if isinstance(count, SectorCount) else SectorCount(**count) for name, count in sectors.items()
    }
    bar = as_fraction(quorum)
    shares = {name: support(count) for name, count in sectors.items()}
    quorums = {name: quorum_met(count, bar) for name, count in sectors.items()}
    parity = sum(shares.values(), Fraction(0)) / len(shares)
    bars = [meets_sector_bar(method, share) for share in shares.values()]

    all_quorate = all(quorums.values())
    if method == VotingMethod.PARITY_MAJORITY:
        passed = all_quorate and parity > HALF
    else:
        passed = all_quorate and all(bars)

    if not all_quorate:
        outcome = Outcome.NO_QUORUM
    elif passed:
        outcome = Outcome.PASSED
    elif any(bars):
        # Some sector cleared the method's own bar and another did not: the sectors disagree.
        outcome = Outcome.DEADLOCKED
    else:
        outcome = Outcome.REJECTED

    return {
        "sectors": {
            name: {
                "eligible": count.eligible,
                "recused": count.recused,
                "yes": count.yes,
                "no": count.no,
                "abstain": count.abstain,
                "support": float(shares[name]),
                "quorum_met": quorums[name],
            }
            for name, count in sectors.items()
        },
        "parity_support": float(parity),
        "quorum_met": all_quorate,
        "outcome": str(outcome),
    }
