"""The evidence-based RAG: what the schedule and the credit ledger say about an initiative,
shown beside the RAG its owner reports (DESIGN.md 2.5).

The rule, applied to open (not done) milestones; the worst signal wins:

red when any of
  - a milestone has slipped `RED_SLIP_DAYS` (60) days or more past its baseline;
  - a milestone is `RED_OVERDUE_DAYS` (30) days or more past its forecast and still not done;
  - the linked charters have spent more credits than they were allocated;
  - credit burn runs `RED_BURN_AHEAD` (25) percentage points or more ahead of progress;
amber when any of
  - a milestone has slipped `AMBER_SLIP_DAYS` (15) days or more;
  - a milestone is past its forecast and not done;
  - a milestone is blocked or at risk;
  - a milestone waits on a blocked dependency, or is forecast before one of its dependencies;
  - credit burn runs `AMBER_BURN_AHEAD` (10) points or more ahead of progress;
green otherwise.

Progress is the mean percent complete of the initiative's milestones; credit burn is the share
of the linked charters' allocation spent. While the ledger cannot say (see `credit_burns`), the
credit rules are left out and the reasons say so: the rating rests on the schedule alone.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from roadmap.choices import RAG, MilestoneStatus

if TYPE_CHECKING:
    from roadmap.models import Milestone

RED_SLIP_DAYS = 60
AMBER_SLIP_DAYS = 15
RED_OVERDUE_DAYS = 30
RED_BURN_AHEAD = Decimal("0.25")
AMBER_BURN_AHEAD = Decimal("0.10")

UNKNOWN: Literal["unknown"] = "unknown"


@dataclass(frozen=True)
class CreditBurn:
    """Credits allocated to and spent by the accounts of an initiative's linked charters."""

    allocated: Decimal
    spent: Decimal

    @property
    def fraction(self) -> Decimal | None:
        return self.spent / self.allocated if self.allocated > 0 else None


def credit_burns(charter_ids_by_key: Mapping[int, Iterable[int]]) -> dict[int, CreditBurn | Literal["unknown"]]:
    """The credit burn of each group of charters (one group per initiative), in one go.

    One question to the ledger for all the charters at once; each group sums its charters'
    allocation and spend. A group none of whose charters has an account stays "unknown"
    rather than reading as zero burn.
    """
    from compute.selectors import charter_allocation_and_use

    groups = {key: list(ids) for key, ids in charter_ids_by_key.items()}
    figures = charter_allocation_and_use({charter_id for ids in groups.values() for charter_id in ids})
    burns: dict[int, CreditBurn | Literal["unknown"]] = {}
    for key, ids in groups.items():
        known = [figures[charter_id] for charter_id in ids if charter_id in figures]
        burns[key] = (
            CreditBurn(
                allocated=sum((a for a, _ in known), Decimal("0")), spent=sum((u for _, u in known), Decimal("0"))
            )
            if known
            else UNKNOWN
        )
    return burns


@dataclass(frozen=True)
class EvidenceInputs:
    """What the rule looks at, each list naming the milestones concerned (for the reasons)."""

    slipped: Sequence[tuple[str, int]] = ()  # open milestones: (title, days past baseline)
    overdue: Sequence[tuple[str, int]] = ()  # open milestones past their forecast: (title, days)
    blocked: Sequence[str] = ()
    at_risk: Sequence[str] = ()
    waiting_on_blocked: Sequence[str] = ()
    forecast_before_dependency: Sequence[str] = ()
    progress: Decimal = Decimal("0")  # 0 to 1
    credit_burn: CreditBurn | Literal["unknown"] = UNKNOWN


@dataclass(frozen=True)
class Evidence:
    rag: str
    reasons: list[str] = field(default_factory=list)
    credit_burn: Decimal | Literal["unknown"] | None = UNKNOWN

    def as_dict(self) -> dict:
        burn = self.credit_burn
        return {
            "rag": self.rag,
            "reasons": self.reasons,
            "credit_burn": str(burn) if isinstance(burn, Decimal) else burn,
        }


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(f"“{name}”" for name in items[:3])
    return shown + (f" and {len(items) - 3} more" if len(items) > 3 else "")


def evidence_rag(inputs: EvidenceInputs) -> Evidence:
    """Apply the rule of this module's docstring to explicit inputs."""
    red: list[str] = []
    amber: list[str] = []

    for title, days in sorted(inputs.slipped, key=lambda item: -item[1]):
        if days >= RED_SLIP_DAYS:
            red.append(f"“{title}” has slipped {days} days past its baseline.")
        elif days >= AMBER_SLIP_DAYS:
            amber.append(f"“{title}” has slipped {days} days past its baseline.")
    for title, days in sorted(inputs.overdue, key=lambda item: -item[1]):
        message = f"“{title}” is {days} day{'s' if days != 1 else ''} past its forecast and not done."
        (red if days >= RED_OVERDUE_DAYS else amber).append(message)
    if inputs.blocked:
        amber.append(f"Blocked: {_names(inputs.blocked)}.")
    if inputs.at_risk:
        amber.append(f"At risk: {_names(inputs.at_risk)}.")
    if inputs.waiting_on_blocked:
        amber.append(f"Waiting on a blocked dependency: {_names(inputs.waiting_on_blocked)}.")
    if inputs.forecast_before_dependency:
        amber.append(f"Forecast before a dependency: {_names(inputs.forecast_before_dependency)}.")

    burn = inputs.credit_burn
    burn_fraction: Decimal | Literal["unknown"] | None = UNKNOWN
    if burn == UNKNOWN:
        burn_note = "Credit burn of the linked charters is unknown; the rating rests on the schedule."
    else:
        burn_note = ""
        burn_fraction = burn.fraction
        if burn_fraction is not None:
            ahead = burn_fraction - inputs.progress
            spent = f"{burn_fraction:.0%} of credits spent against {inputs.progress:.0%} progress"
            if burn.spent > burn.allocated:
                red.append(f"The linked charters have spent more credits than allocated ({spent}).")
            elif ahead >= RED_BURN_AHEAD:
                red.append(f"Credit burn runs well ahead of progress: {spent}.")
            elif ahead >= AMBER_BURN_AHEAD:
                amber.append(f"Credit burn runs ahead of progress: {spent}.")

    rag = RAG.RED if red else RAG.AMBER if amber else RAG.GREEN
    reasons = red + amber
    if not reasons:
        reasons = ["No slippage, overdue, blocked or at-risk milestone."]
    if burn_note:
        reasons.append(burn_note)
    return Evidence(rag=rag, reasons=reasons, credit_burn=burn_fraction)


def inputs_from_milestones(
    milestones: Iterable[Milestone],
    *,
    today: datetime.date,
    credit_burn: CreditBurn | Literal["unknown"] = UNKNOWN,
) -> EvidenceInputs:
    """The rule's inputs from an initiative's milestones (their `depends_on` prefetched)."""
    milestones = list(milestones)
    slipped, overdue, blocked, at_risk, waiting, before_dependency = [], [], [], [], [], []
    for milestone in milestones:
        if not milestone.is_open:
            continue
        slip = milestone.slippage_days
        if slip is not None and slip > 0:
            slipped.append((milestone.title, slip))
        if milestone.forecast_date < today:
            overdue.append((milestone.title, (today - milestone.forecast_date).days))
        if milestone.status == MilestoneStatus.BLOCKED:
            blocked.append(milestone.title)
        elif milestone.status == MilestoneStatus.AT_RISK:
            at_risk.append(milestone.title)
        dependencies = list(milestone.depends_on.all())
        if any(dep.status == MilestoneStatus.BLOCKED for dep in dependencies):
            waiting.append(milestone.title)
        if milestone.dependency_conflicts():
            before_dependency.append(milestone.title)
    progress = (
        Decimal(sum(m.percent_complete for m in milestones)) / Decimal(100 * len(milestones))
        if milestones
        else Decimal("0")
    )
    return EvidenceInputs(
        slipped=slipped,
        overdue=overdue,
        blocked=blocked,
        at_risk=at_risk,
        waiting_on_blocked=waiting,
        forecast_before_dependency=before_dependency,
        progress=progress,
        credit_burn=credit_burn,
    )
