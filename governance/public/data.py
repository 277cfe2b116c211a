"""The open data: each public list as CSV and JSON, with its columns documented once here (the
data page prints these descriptions, the downloads follow them, the tests parse against them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from governance.choices import Sector
from governance.public import selectors

CHUNK = 500


@dataclass(frozen=True)
class DataList:
    name: str
    title: str
    description: str
    columns: dict[str, str]
    rows: Callable[[], Iterator[dict]]


def _chunks(queryset, to_rows) -> Iterator[dict]:
    """Rows of a queryset a chunk at a time, so a long history never sits in memory whole."""
    batch = []
    for item in queryset.iterator(chunk_size=CHUNK):
        batch.append(item)
        if len(batch) == CHUNK:
            yield from to_rows(batch)
            batch = []
    if batch:
        yield from to_rows(batch)


def _sector_columns(what: str) -> dict[str, str]:
    columns = {}
    for sector, label in Sector.choices:
        for count in ("eligible", "recused", "yes", "no", "abstain"):
            columns[f"{sector}_{count}"] = f"{label} sector: {count.replace('_', ' ')} ({what})"
        columns[f"{sector}_support"] = f"{label} sector: yes among yes and no, 0 to 1"
        columns[f"{sector}_quorum_met"] = f"{label} sector: whether its quorum was met"
    return columns


def _decision_rows() -> Iterator[dict]:
    def flat(batch):
        for row in selectors.decision_rows(batch):
            out = {k: row[k] for k in DECISIONS.columns if k in row}
            out["recusals"] = len(row["recusals"])
            out["recusal_reasons"] = " | ".join(r["reason"] for r in row["recusals"])
            for sector in Sector.values:
                counts = row["sectors"].get(sector, {})
                for count in ("eligible", "recused", "yes", "no", "abstain", "support", "quorum_met"):
                    out[f"{sector}_{count}"] = counts.get(count)
            yield out

    # Recusals and subjects are read per chunk: a fixed number of queries per 500 decisions.
    return _chunks(selectors.decisions(), flat)


DECISIONS = DataList(
    "decisions",
    "Decisions",
    "Every closed ballot: its subject, method, outcome and per-sector tally.",
    {
        "id": "The ballot's number",
        "title": "What was decided (a restricted charter is named by its number only)",
        "committee": "The committee that decided",
        "subject_type": "charter, credit_request, roadmap, sop or motion",
        "charter_id": "The charter decided on, or whose credit request was decided (empty otherwise)",
        "method": "parity_majority, double_majority or double_supermajority",
        "quorum": "Share of each sector's eligible members who had to take part",
        "outcome": "passed, rejected, deadlocked or no_quorum",
        "opened_at": "When the ballot opened (ISO 8601)",
        "closed_at": "When it closed (ISO 8601)",
        "parity_support": "Mean of the sectors' support, 0 to 1",
        **_sector_columns("members"),
        "recusals": "How many members stood aside",
        "recusal_reasons": "Their reasons, separated by ' | '",
        "previous_id": "The ballot this one followed after a deadlock",
        "meeting": "The meeting that took the decision, once its minutes are approved",
        "log_index": "The decision's place in the audit log (its receipt proves it)",
    },
    _decision_rows,
)

CHARTERS = DataList(
    "charters",
    "Charters",
    "Approved, active and completed charters with their public fields.",
    {
        "id": "The charter's number",
        "title": "Its title (a restricted charter: its number only)",
        "restricted": "true when its data is restricted: only its existence, lead and decisions are public",
        "status": "approved, active or completed",
        "committee": "The committee it answers to",
        "lead_organization": "The organization that leads it",
        "lead_sector": "That organization's sector",
        "summary": "What it is about",
        "objectives": "Its objectives",
        "national_impact": "Its national impact statement",
        "participants": "Participating organizations, 'name (sector)' separated by ' | '",
        "ip_framework": "How intellectual property is held",
        "licence_terms": "The licence terms",
        "data_classification": "public, internal, sensitive or restricted",
        "jurisdictions": "Where its data may be processed, separated by ' | '",
        "models": "Models registered under it, separated by ' | '",
        "log_index": "The charter's latest decision event in the audit log",
    },
    lambda: _flatten_charters(),
)


def _flatten_charters() -> Iterator[dict]:
    def flat(batch):
        for charter in batch:
            row = selectors.charter_row(charter)
            out = {k: row[k] for k in CHARTERS.columns}
            out["participants"] = " | ".join(f"{p['name']} ({p['sector']})" for p in row["participants"])
            out["jurisdictions"] = " | ".join(row["jurisdictions"])
            out["models"] = " | ".join(row["models"])
            yield out

    # The prefetches of charters() run per chunk (iterator with chunk_size keeps them).
    return _chunks(selectors.charters(), flat)


AWARDS = DataList(
    "awards",
    "Credit awards",
    "Decided credit requests of published charters: requested, awarded and used, per resource.",
    {
        "id": "The request's number",
        "charter_id": "The charter it funds",
        "charter": "The charter's title (a restricted charter: its number only)",
        "lead_sector": "The sector of the charter's lead organization",
        "resource": "The resource the credits are for",
        "pool": "The pool that funds it",
        "pool_period": "The pool's period",
        "status": "approved, partially_approved or rejected",
        "requested": "Credits asked for",
        "awarded": "Credits awarded",
        "reason": "Why less was awarded than asked for",
        "decided_at": "When it was decided (ISO 8601)",
        "by_ballot": "true when a ballot decided it, false when both co-chairs signed",
        "log_index": "The decision's place in the audit log",
    },
    lambda: _chunks(selectors.awards(), lambda batch: (_pick(selectors.award_row(r), AWARDS) for r in batch)),
)

AWARD_TOTALS = DataList(
    "award-totals",
    "Credits per charter, resource and pool",
    "Per charter, resource and pool period: credits requested, awarded and used.",
    {
        "charter_id": "The charter",
        "charter": "Its title (a restricted charter: its number only)",
        "lead_sector": "The sector of its lead organization",
        "resource": "The resource",
        "pool": "The pool",
        "pool_period": "The pool's period",
        "requested": "Credits requested (decided requests)",
        "awarded": "Credits awarded",
        "used": "Credits the charter used on the resource within the pool's period",
    },
    lambda: _chunks(selectors.award_totals(), lambda batch: (selectors.award_total_row(g) for g in batch)),
)

POOLS = DataList(
    "pools",
    "Credit pools",
    "Each pool's capacity for its period against what it awarded.",
    {
        "id": "The pool's number",
        "name": "Its name",
        "committee": "The committee whose budget it is",
        "period_start": "First day of its period",
        "period_end": "Last day of its period",
        "capacity": "Credits it holds",
        "awarded": "Credits awarded from it",
        "share_awarded": "Awarded as a share of capacity, 0 to 1",
        "log_index": "The pool's latest event in the audit log",
    },
    lambda: _chunks(selectors.pools(), lambda batch: (_pick(selectors.pool_row(p), POOLS) for p in batch)),
)

USAGE = DataList(
    "usage",
    "Usage per month",
    "Unit-hours and credits per resource, month and sector of the charters' lead organizations. No "
    "per-person or per-charter rows.",
    {
        "month": "The calendar month (UTC), YYYY-MM",
        "resource": "The resource",
        "unit": "What a unit-hour counts (e.g. GPU-hour)",
        "lead_sector": "Sector of the lead organizations of the charters that used it",
        "unit_hours": "Unit-hours used",
        "credits": "Credits charged",
        "charters": "How many charters used it",
    },
    lambda: _chunks(selectors.usage_months(), lambda batch: (selectors.usage_row(m) for m in batch)),
)

MILESTONES = DataList(
    "milestones",
    "Roadmap milestones",
    "Milestones of the approved roadmap in force, with baseline and forecast.",
    {
        "id": "The milestone's number",
        "initiative": "The initiative it belongs to",
        "title": "What it delivers",
        "status": "planned, in_progress, done, at_risk or blocked",
        "baseline_date": "The date the approved baseline set",
        "forecast_date": "Today's forecast",
        "actual_date": "When it was done",
        "slippage_days": "Forecast minus baseline, in days",
        "percent_complete": "Percent complete",
        "log_index": "Its latest event in the audit log",
    },
    lambda: _chunks(
        selectors.milestones(), lambda batch: (_pick(selectors.milestone_row(m), MILESTONES) for m in batch)
    ),
)


def _pick(row: dict, data_list: DataList) -> dict:
    return {k: row[k] for k in data_list.columns}


LISTS: dict[str, DataList] = {d.name: d for d in (DECISIONS, CHARTERS, AWARDS, AWARD_TOTALS, POOLS, USAGE, MILESTONES)}
