"""The public lists, each built once for the pages, the downloads and the feed.

A row is a plain dict of published values: whatever a row does not carry cannot appear on a
page, in a CSV or JSON file, or in the Atom feed. Every list reads a model's `published()`
queryset, in a fixed number of queries however long the history (the pages paginate).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import CharField, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse

from charters.choices import DataClassification
from charters.models import PUBLISHED_CHARTER_STATUSES, Charter
from compute.choices import AWARDED_STATUSES
from compute.models import CreditPool, CreditRequest, UsageMonth, UsageRecord
from compute.models.ledger import CREDITS, ZERO
from governance.choices import Outcome, RollCallPublication, Sector, SubjectType, VotingMethod
from governance.models import AuditEvent, Ballot, Recusal
from roadmap.models import Milestone, Roadmap

SECTORS = dict(Sector.choices)
RESTRICTED = DataClassification.RESTRICTED


def _iso(value) -> str:
    return value.isoformat() if value else ""


def with_log(queryset: QuerySet, verbs: tuple[str, ...] = ()) -> QuerySet:
    """Annotate each row with `log_index`: the leaf index of the newest integrated audit event
    about it (of one of `verbs` when given), the place in the record its receipt proves."""
    label = queryset.model._meta.label_lower
    events = AuditEvent.objects.filter(
        object_type=label, object_id=Cast(OuterRef("pk"), CharField()), leaf_index__isnull=False
    )
    if verbs:
        events = events.filter(verb__in=verbs)
    return queryset.annotate(log_index=Subquery(events.order_by("-id").values("leaf_index")[:1]))


def receipt_url(log_index: int | None) -> str:
    return reverse("public:receipt", args=[log_index]) if log_index is not None else ""


# --- Charters ------------------------------------------------------------------------------


def restricted_label(charter_id: int) -> str:
    """How a restricted charter is named in public: by number only, its title being content."""
    return f"Restricted charter no. {charter_id}"


def charters() -> QuerySet:
    """Published charters, newest first, with their lead and participants in two queries."""
    queryset = (
        Charter.objects.published()
        .select_related("lead_organization", "committee")
        .prefetch_related("participating_organizations", "models")
        .order_by("-pk")
    )
    return with_log(queryset, ("charter.approve", "charter.activate", "charter.complete"))


def charter_row(charter: Charter, decisions: dict[int, list[dict]] | None = None) -> dict:
    """A charter's public fields; a restricted charter's content stays out (2.8)."""
    restricted = charter.data_classification == RESTRICTED
    lead = charter.lead_organization
    row = {
        "id": charter.pk,
        "url": reverse("public:charter", args=[charter.pk]),
        "title": restricted_label(charter.pk) if restricted else charter.title,
        "restricted": restricted,
        "status": charter.status,
        "status_label": charter.get_status_display(),
        "committee": str(charter.committee),
        "lead_organization": lead.name,
        "lead_sector": lead.sector,
        "summary": "",
        "objectives": "",
        "national_impact": "",
        "participants": [],
        "ip_framework": "",
        "licence_terms": "",
        "data_classification": charter.data_classification,
        "jurisdictions": [],
        "models": [],
        "log_index": getattr(charter, "log_index", None),
    }
    if not restricted:
        row.update(
            summary=charter.summary,
            objectives=charter.objectives,
            national_impact=charter.national_impact,
            participants=[
                {"name": o.name, "sector": o.sector}
                for o in sorted(charter.participating_organizations.all(), key=lambda o: (o.sector, o.name))
            ],
            ip_framework=charter.get_ip_framework_display(),
            licence_terms=charter.licence_terms,
            jurisdictions=list(charter.allowed_jurisdictions or []),
            models=[f"{m.name} {m.version}" for m in charter.models.all()],
        )
    row["receipt_url"] = receipt_url(row["log_index"])
    if decisions is not None:
        row["decisions"] = decisions.get(charter.pk, [])
    return row


def _public_charters(ids) -> dict[int, Charter]:
    return {c.pk: c for c in Charter.objects.filter(pk__in=ids).only("pk", "status", "data_classification", "title")}


# --- Decisions -------------------------------------------------------------------------------


def decisions() -> QuerySet:
    """Closed ballots, the latest decided first, with their committee and meeting."""
    queryset = (
        Ballot.objects.published()
        .select_related("committee", "agenda_item__meeting__minutes")
        .order_by("-closed_at", "-pk")
    )
    return with_log(queryset, ("ballot.closed",))


def _subjects(ballots: list[Ballot]) -> dict[tuple[str, int], Charter]:
    """The charter behind each ballot on a charter or a credit request (two queries at most)."""
    charter_ids = {b.subject_id for b in ballots if b.subject_type == SubjectType.CHARTER}
    request_ids = {b.subject_id for b in ballots if b.subject_type == SubjectType.CREDIT_REQUEST}
    request_charter = dict(CreditRequest.objects.filter(pk__in=request_ids).values_list("pk", "charter_id"))
    found = _public_charters(charter_ids | set(request_charter.values()))
    subjects = {(SubjectType.CHARTER, pk): found[pk] for pk in charter_ids if pk in found}
    for request_id, charter_id in request_charter.items():
        if charter_id in found:
            subjects[(SubjectType.CREDIT_REQUEST, request_id)] = found[charter_id]
    return subjects


def _recusals(ballots: list[Ballot]) -> dict[int, list[dict]]:
    """Each ballot's recusals with their reasons; the member's name only where the committee
    publishes its roll calls."""
    named = {b.pk for b in ballots if b.committee.roll_call_publication == RollCallPublication.AFTER_CLOSE}
    found: dict[int, list[dict]] = defaultdict(list)
    recusals = Recusal.objects.filter(ballot_id__in=[b.pk for b in ballots]).select_related("organization", "user")
    for recusal in recusals.order_by("ballot_id", "sector", "pk"):
        found[recusal.ballot_id].append(
            {
                "sector": recusal.sector,
                "organization": recusal.organization.name if recusal.organization else "",
                "member": recusal.user.get_full_name() or recusal.user.username if recusal.ballot_id in named else "",
                "reason": recusal.reason,
                "automatic": recusal.automatic,
            }
        )
    return found


def decision_rows(ballots) -> list[dict]:
    """Public rows for a page of closed ballots: three queries for the page, however long."""
    ballots = list(ballots)
    subjects = _subjects(ballots)
    recusals = _recusals(ballots) if ballots else {}
    return [_decision_row(b, subjects.get((b.subject_type, b.subject_id)), recusals.get(b.pk, [])) for b in ballots]


def _decision_row(ballot: Ballot, charter: Charter | None, recusals: list[dict]) -> dict:
    tally = ballot.result or {}
    restricted = charter is not None and charter.data_classification == RESTRICTED
    published_charter = charter is not None and charter.status in PUBLISHED_CHARTER_STATUSES
    title = ballot.title
    if restricted:
        what = "credit request of " if ballot.subject_type == SubjectType.CREDIT_REQUEST else ""
        title = f"Decision on a {what}{restricted_label(charter.pk).lower()}"
    meeting = getattr(getattr(ballot, "agenda_item", None), "meeting", None)
    minutes_public = meeting is not None and meeting.minutes_approved
    if restricted:
        # A declared conflict's reason is free text that may speak of the charter's content.
        recusals = [
            r
            if r["automatic"]
            else {**r, "reason": "A declared conflict (its reason is withheld with the charter's content)."}
            for r in recusals
        ]
    row = {
        "id": ballot.pk,
        "url": reverse("public:decision", args=[ballot.pk]),
        "title": title,
        "restricted": restricted,
        "description": "" if restricted else ballot.description,
        "committee": str(ballot.committee),
        "subject_type": ballot.subject_type,
        "subject_label": SubjectType(ballot.subject_type).label,
        "charter_id": charter.pk if charter else None,
        "charter_url": reverse("public:charter", args=[charter.pk]) if published_charter else "",
        "method": ballot.method,
        "method_label": VotingMethod(ballot.method).label,
        "quorum": float(ballot.quorum),
        "outcome": ballot.outcome,
        "outcome_label": Outcome(ballot.outcome).label,
        "opened_at": _iso(ballot.opened_at),
        "closed_at": _iso(ballot.closed_at),
        "closed": ballot.closed_at,
        "parity_support": tally.get("parity_support"),
        "sectors": {
            sector: {k: counts.get(k) for k in ("eligible", "recused", "yes", "no", "abstain", "support", "quorum_met")}
            for sector, counts in (tally.get("sectors") or {}).items()
        },
        "recusals": recusals,
        "previous_id": ballot.previous_ballot_id,
        "meeting": str(meeting) if meeting and minutes_public else "",
        "meeting_date": _iso(meeting.starts_at) if meeting and minutes_public else "",
        "minutes_url": reverse("public:minutes", args=[meeting.pk]) if minutes_public else "",
        "roll_call_published": ballot.committee.roll_call_publication == RollCallPublication.AFTER_CLOSE,
        "log_index": getattr(ballot, "log_index", None),
    }
    row["receipt_url"] = receipt_url(row["log_index"])
    return row


def decision_event(ballot: Ballot) -> AuditEvent | None:
    """The integrated `ballot.closed` event of a published decision, whose content (the tally,
    the outcome, the ballot's title) is public; none for a decision on a restricted charter,
    whose title the event carries."""
    (row,) = decision_rows([ballot])
    if row["restricted"]:
        return None
    return (
        AuditEvent.objects.filter(
            object_type="governance.ballot", object_id=str(ballot.pk), verb="ballot.closed", leaf_index__isnull=False
        )
        .order_by("id")
        .first()
    )


def roll_call(ballot: Ballot) -> list[dict]:
    """The named votes of a closed ballot, where its committee publishes them; else nothing."""
    if ballot.committee.roll_call_publication != RollCallPublication.AFTER_CLOSE:
        return []
    return [{k: row[k] for k in ("member", "organization", "sector", "vote", "reason")} for row in ballot.roll_call()]


# --- Credits ---------------------------------------------------------------------------------


def _credits(value) -> Decimal:
    """Credits as the ledger keeps them, four decimals (a database's sum may carry more)."""
    return (value or ZERO).quantize(Decimal("0.0001"))


def awards() -> QuerySet:
    """Decided requests of published charters, the latest decided first."""
    queryset = (
        CreditRequest.objects.published()
        .select_related("charter", "charter__lead_organization", "resource", "pool")
        .order_by("-decided_at", "-pk")
    )
    return with_log(queryset, ("credit_request.approved", "credit_request.rejected"))


def award_row(request: CreditRequest) -> dict:
    charter = request.charter
    restricted = charter.data_classification == RESTRICTED
    awarded = request.approved_amount if request.status in AWARDED_STATUSES else ZERO
    row = {
        "id": request.pk,
        "charter_id": charter.pk,
        "charter": restricted_label(charter.pk) if restricted else charter.title,
        "charter_url": reverse("public:charter", args=[charter.pk]),
        "lead_sector": charter.lead_organization.sector,
        "resource": request.resource.name,
        "pool": request.pool.name,
        "pool_period": f"{request.pool.period_start:%Y-%m-%d} to {request.pool.period_end:%Y-%m-%d}",
        "status": request.status,
        "status_label": request.get_status_display(),
        "requested": _credits(request.amount),
        "awarded": _credits(awarded),
        "reason": request.get_reason_code_display() if awarded < request.amount and request.reason_code else "",
        "decided_at": _iso(request.decided_at),
        "by_ballot": request.ballot_id is not None,
        "decided_how": (
            "by ballot"
            if request.ballot_id is not None
            else "signed by both co-chairs"
            if request.status in AWARDED_STATUSES
            else "by the co-chairs"
        ),
        "log_index": getattr(request, "log_index", None),
    }
    row["receipt_url"] = receipt_url(row["log_index"])
    return row


def award_totals(charter: Charter | None = None) -> QuerySet:
    """Per charter, resource and pool: credits requested and awarded, and the credits the
    charter used on the resource within the pool's period (one grouped query)."""
    used = (
        UsageRecord.objects.filter(
            charter_id=OuterRef("charter_id"),
            resource_id=OuterRef("resource_id"),
            hour__date__gte=OuterRef("pool__period_start"),
            hour__date__lte=OuterRef("pool__period_end"),
        )
        .order_by()
        .values("charter_id")
        .annotate(total=Sum("credits"))
        .values("total")
    )
    queryset = CreditRequest.objects.published()
    if charter is not None:
        queryset = queryset.filter(charter=charter)
    return (
        queryset.values(
            "charter_id",
            "charter__title",
            "charter__data_classification",
            "charter__lead_organization__sector",
            "resource_id",
            "resource__name",
            "pool_id",
            "pool__name",
            "pool__period_start",
            "pool__period_end",
        )
        .annotate(
            requested=Sum("amount"),
            awarded=Sum("approved_amount", filter=Q(status__in=AWARDED_STATUSES)),
            used=Coalesce(Subquery(used, output_field=DecimalField(**CREDITS)), Value(ZERO)),
        )
        .order_by("-pool__period_start", "charter_id", "resource__name")
    )


def award_total_row(group: dict) -> dict:
    restricted = group["charter__data_classification"] == RESTRICTED
    return {
        "charter_id": group["charter_id"],
        "charter": restricted_label(group["charter_id"]) if restricted else group["charter__title"],
        "charter_url": reverse("public:charter", args=[group["charter_id"]]),
        "lead_sector": group["charter__lead_organization__sector"],
        "resource": group["resource__name"],
        "pool": group["pool__name"],
        "pool_period": f"{group['pool__period_start']:%Y-%m-%d} to {group['pool__period_end']:%Y-%m-%d}",
        "requested": _credits(group["requested"]),
        "awarded": _credits(group["awarded"]),
        "used": _credits(group["used"]),
    }


def pools() -> QuerySet:
    """Every pool with what it awarded (one aggregate subquery)."""
    awarded = (
        CreditRequest.objects.filter(pool_id=OuterRef("pk"), status__in=AWARDED_STATUSES)
        .order_by()
        .values("pool_id")
        .annotate(total=Sum("approved_amount"))
        .values("total")
    )
    queryset = (
        CreditPool.objects.published()
        .select_related("committee")
        .annotate(awarded=Coalesce(Subquery(awarded, output_field=DecimalField(**CREDITS)), Value(ZERO)))
        .order_by("-period_start", "pk")
    )
    return with_log(queryset)


def pool_row(pool: CreditPool) -> dict:
    return {
        "id": pool.pk,
        "name": pool.name,
        "committee": str(pool.committee),
        "period_start": _iso(pool.period_start),
        "period_end": _iso(pool.period_end),
        "capacity": _credits(pool.total),
        "awarded": _credits(pool.awarded),
        "share_awarded": float(pool.awarded / pool.total) if pool.total else 0.0,
        "log_index": getattr(pool, "log_index", None),
        "receipt_url": receipt_url(getattr(pool, "log_index", None)),
    }


# --- Usage -----------------------------------------------------------------------------------


def usage_months() -> QuerySet:
    """The monthly aggregates, newest month first (pre-aggregated: the cost is per month)."""
    return UsageMonth.objects.published().select_related("resource").order_by("-month", "resource__name", "sector")


def usage_row(month: UsageMonth) -> dict:
    return {
        "month": f"{month.month:%Y-%m}",
        "resource": month.resource.name,
        "unit": month.resource.unit,
        "lead_sector": month.sector,
        "unit_hours": _credits(month.unit_hours),
        "credits": _credits(month.credits),
        "charters": month.charters,
    }


def usage_chart(rows: list[dict]) -> dict:
    """Credits per month and sector for the chart (the table beside it gives every figure)."""
    months = sorted({r["month"] for r in rows})
    series: dict[str, dict[str, Decimal]] = {s: dict.fromkeys(months, ZERO) for s in Sector.values}
    for r in rows:
        series.setdefault(r["lead_sector"], dict.fromkeys(months, ZERO))[r["month"]] += r["credits"]
    return {
        "months": months,
        "series": [
            {"name": SECTORS.get(s, s), "values": [float(v) for v in vals.values()]} for s, vals in series.items()
        ],
    }


# --- Roadmap ---------------------------------------------------------------------------------


def roadmap_in_force() -> Roadmap | None:
    return Roadmap.objects.published().filter(superseded_at__isnull=True).order_by("-version").first()


def milestones() -> QuerySet:
    queryset = (
        Milestone.objects.published().select_related("initiative").order_by("initiative__title", "forecast_date", "pk")
    )
    return with_log(queryset)


def milestone_row(milestone: Milestone) -> dict:
    slip = (milestone.forecast_date - milestone.baseline_date).days if milestone.baseline_date else None
    row = {
        "id": milestone.pk,
        "initiative": milestone.initiative.title,
        "title": milestone.title,
        "status": milestone.status,
        "status_label": milestone.get_status_display(),
        "baseline_date": _iso(milestone.baseline_date),
        "forecast_date": _iso(milestone.forecast_date),
        "actual_date": _iso(milestone.actual_date),
        "slippage_days": slip,
        "percent_complete": milestone.percent_complete,
        "log_index": getattr(milestone, "log_index", None),
    }
    row["receipt_url"] = receipt_url(row["log_index"])
    return row
