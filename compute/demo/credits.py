"""Demo credits: resources with versioned rates, a pool, charter accounts with five months of
hourly usage (one overdrawn, one past its 90 % alert), a transfer, a refund, and requests in
every state, including one above the dual-control limit waiting for its ballot.

The history is written as it would have happened: the clock is set back while each past step
runs through the services, so dates on requests, signatures, ledger entries, alerts and audit
events read as a real five months. Adds "resources", "credit_pool" and "credit_accounts" to
the context.
"""

from __future__ import annotations

import contextlib
import datetime
import random
from decimal import Decimal
from unittest import mock

from django.utils import timezone

from charters.choices import CharterStatus, DataClassification, IPFramework
from charters.models import Charter
from compute.choices import DecisionReason, ResourceKind, TransactionKind, TransferStatus
from compute.models import LedgerTransaction
from compute.services.credits import pools, refunds, requests, resources, transfers, usage
from governance.choices import PortalRole

D = Decimal
HISTORY_DAYS = 150


@contextlib.contextmanager
def _clock(moment: datetime.datetime):
    """Run the services as if it were `moment` (demo history only)."""
    with mock.patch.object(timezone, "now", lambda: moment):
        yield


def _person_of(organization, people: dict, admin):
    """Someone who speaks for an organization: its staff first, then anyone of it."""
    members = [p for p in people.values() if p.organization_id == organization.pk]
    staff = [p for p in members if p.groups.filter(name=PortalRole.STAFF).exists()]
    return (staff or members or [admin])[0]


def _fundable_charters(context, resources) -> list[tuple[Charter, object]]:
    """Approved or active charters with a resource they may use, from the charters demo when it
    ran (its charters were decided by ballot); only without it are charters made here."""
    candidates = list((context.get("charters") or {}).values())
    chosen = []
    for charter in candidates:
        if not isinstance(charter, Charter) or charter.status not in (CharterStatus.APPROVED, CharterStatus.ACTIVE):
            continue
        for resource in resources:
            if not requests.eligibility_problems(charter=charter, resource=resource, pool=context["credit_pool"]):
                chosen.append((charter, resource))
                break
    orgs = context["organizations"]
    fallback = [
        ("Flood forecasting for river basins", "NRC", DataClassification.INTERNAL),
        ("Clinical notes de-identification", "PHDA", DataClassification.RESTRICTED),
        ("Grid load forecasting", "Helios", DataClassification.INTERNAL),
    ]
    for title, lead, classification in fallback:
        if len(chosen) >= 3 or context.get("charters"):
            break
        if any(c.title == title for c, _ in chosen):
            continue
        # The charters app owns the lifecycle; without its demo, an approved charter is written
        # directly so the credit pages have something to show.
        charter = Charter.objects.create(
            committee=context["committee"],
            title=title,
            summary=f"{title}: a joint project of the partnership.",
            lead_organization=orgs[lead],
            ip_framework=IPFramework.JOINT_POOL,
            data_classification=classification,
            allowed_jurisdictions=["EU"],
            status=CharterStatus.ACTIVE,
            created_by=_person_of(orgs[lead], context["people"], context["admin"]),
        )
        resource = next(
            r
            for r in resources
            if not requests.eligibility_problems(charter=charter, resource=r, pool=context["credit_pool"])
        )
        chosen.append((charter, resource))
    return chosen[:3]


def seed_demo(context: dict) -> None:
    admin, people, committee = context["admin"], context["people"], context["committee"]
    ana, ben = people["ana.public"], people["ben.private"]
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    today = timezone.localdate()

    def day(n: int, hour: int = 10) -> datetime.datetime:
        """n days ago, at `hour` o'clock."""
        return (now - datetime.timedelta(days=n)).replace(hour=hour)

    with _clock(day(HISTORY_DAYS + 5)):
        since = day(HISTORY_DAYS + 30)
        resource_of = {
            "gpu": resources.create_resource(
                admin,
                name="Aurora GPU cluster",
                kind=ResourceKind.GPU_CLUSTER,
                description="256 H100 GPUs in trusted execution environments, operated by the Ministry.",
                capacity=D("256"),
                jurisdiction="EU",
                tee_capable=True,
                rate=D("2.5"),
                rate_effective_from=since,
            ),
            "cpu": resources.create_resource(
                admin,
                name="Baltic CPU pool",
                kind=ResourceKind.CPU_POOL,
                description="4,096 cores for pre-processing and classical models.",
                capacity=D("4096"),
                jurisdiction="EU",
                rate=D("0.04"),
                rate_effective_from=since,
            ),
            "us_gpu": resources.create_resource(
                admin,
                name="Frontier GPU cloud",
                kind=ResourceKind.GPU_CLUSTER,
                description="A commercial GPU cloud offered by a private member, outside the EU.",
                capacity=D("512"),
                jurisdiction="US",
                rate=D("2.0"),
                rate_effective_from=since,
            ),
            "storage": resources.create_resource(
                admin,
                name="Sovereign object store",
                kind=ResourceKind.STORAGE,
                capacity=D("2000"),
                jurisdiction="EU",
                rate=D("0.01"),
                rate_effective_from=since,
            ),
        }
        pool = pools.create_pool(
            ana,
            committee=committee,
            name=f"Compute budget {today.year}",
            period_start=today - datetime.timedelta(days=HISTORY_DAYS + 5),
            period_end=today + datetime.timedelta(days=40),
            total=D("600000"),
        )
    context["resources"] = resource_of
    context["credit_pool"] = pool

    eligible = [resource_of["gpu"], resource_of["cpu"], resource_of["storage"]]
    funded = _fundable_charters(context, eligible)
    if not funded:
        return
    speakers = {charter.pk: _person_of(charter.lead_organization, people, admin) for charter, _ in funded}

    def request(charter, resource, amount, when, *, submit=True, justification=None):
        with _clock(when):
            return requests.create_request(
                speakers[charter.pk],
                charter=charter,
                resource=resource,
                pool=pool,
                amount=D(amount),
                justification=justification or f"Compute for {charter.title.lower()}: training and evaluation runs.",
                submit=submit,
            )

    def both_sign(credit_request, when, **award):
        with _clock(when):
            requests.sign_request(ana, credit_request, **award)
        with _clock(when + datetime.timedelta(hours=5)):
            requests.sign_request(ben, credit_request, **award)

    # Burn per posting, in unit-hours (two postings a day, at 02:00 and 14:00): the first
    # account burns near its allocation, the second past it, the third comfortably within.
    (first, first_resource), *rest = funded
    plans = [(first, first_resource, 18)]
    if rest:
        plans.append((rest[0][0], rest[0][1], 9 if rest[0][1].kind == ResourceKind.GPU_CLUSTER else 280))
    if len(rest) > 1:
        plans.append((rest[1][0], rest[1][1], 375 if rest[1][1].kind == ResourceKind.CPU_POOL else 6))

    awards = [request(first, first_resource, "9000", day(HISTORY_DAYS))]
    both_sign(awards[0], day(HISTORY_DAYS, 11))
    if rest:
        second, second_resource = rest[0]
        partial = request(second, second_resource, "9000", day(HISTORY_DAYS))
        both_sign(
            partial,
            day(HISTORY_DAYS - 1),
            amount=D("6000"),
            reason_code=DecisionReason.SCOPE_REDUCED,
            note="Start with the pilot cohort; ask again with its results.",
        )
    if len(rest) > 1:
        third, third_resource = rest[1]
        both_sign(request(third, third_resource, "8000", day(HISTORY_DAYS)), day(HISTORY_DAYS - 2))

    rng = random.Random(2026)  # noqa: S311 - demo figures, not secrets
    for n in range(HISTORY_DAYS - 1, 0, -1):
        if n == 90:
            with _clock(day(n, 0)):
                resources.set_rate(
                    admin,
                    resource_of["gpu"],
                    rate=D("2.8"),
                    effective_from=day(n, 0),
                    note="Energy prices: the committee raised the GPU rate by 12 %.",
                )
        if n == 75:
            both_sign(request(first, first_resource, "7500", day(n, 9)), day(n, 10))
        if n == 40 and rest:
            # The third charter hands over what it will not use; with two, the first lends.
            source, target, amount = (third, first, "1500") if len(rest) > 1 else (first, rest[0][0], "1000")
            with _clock(day(n)):
                transfer = transfers.propose_transfer(
                    speakers[source.pk],
                    source=pools.open_account(source),
                    target=pools.open_account(target),
                    amount=D(amount),
                    reason="Our runs finished early; the other project needs the credits now.",
                )
            if transfer.status == TransferStatus.PROPOSED:
                with _clock(day(n, 15)):
                    transfers.consent_transfer(speakers[target.pk], transfer)
        if n == 25 and rest:
            debits = LedgerTransaction.objects.filter(
                kind=TransactionKind.USAGE, entries__account__charter=second, occurred_at__gte=day(n + 2, 0)
            ).order_by("occurred_at")[:2]
            if debits:
                with _clock(day(n, 9)):
                    refund = refunds.request_refund(
                        speakers[second.pk],
                        account=pools.open_account(second),
                        debits=list(debits),
                        reason="Node gpu-17 lost its NVLink; the jobs ran at a quarter of the speed.",
                    )
                with _clock(day(n, 16)):
                    refunds.decide_refund(
                        ben, refund, approve=True, note="Confirmed by the operator's incident report."
                    )
        with _clock(day(n, 23)):
            for charter, resource, per_posting in plans:
                for hour in (2, 14):
                    variation = D(rng.randint(70, 130)) / 100
                    usage.post_usage(
                        source="prometheus",
                        resource=resource,
                        charter=charter,
                        hour=day(n, hour),
                        unit_hours=(per_posting * variation).quantize(D("0.01")),
                    )

    # Requests in the states the history has not shown yet.
    withdrawn = request(first, first_resource, "2000", day(20))
    with _clock(day(19)):
        requests.withdraw_request(speakers[first.pk], withdrawn)
    last = rest[-1] if rest else (first, first_resource)
    rejected = request(last[0], last[1], "5000", day(10), justification="More runs.")
    with _clock(day(9)):
        requests.reject_request(
            ben,
            rejected,
            reason_code=DecisionReason.INSUFFICIENT_JUSTIFICATION,
            note="Say which experiments, and why the current award does not cover them.",
        )
    awaiting = request(rest[0][0] if rest else first, rest[0][1] if rest else first_resource, "3000", day(3))
    with _clock(day(2)):
        requests.sign_request(ana, awaiting)
    request(
        first,
        first_resource,
        "25000",
        day(2),
        justification="The national flood model at 1 km resolution: a full training run and its ensemble.",
    )
    request(last[0], last[1], "1500", day(1), submit=False, justification="Draft: evaluation runs.")

    context["credit_accounts"] = {charter.pk: pools.open_account(charter) for charter, _ in funded}
