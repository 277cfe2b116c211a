"""The credit ledger under load: co-chair approvals and usage postings per second with several
worker processes at once (real row locks on PostgreSQL when DATABASE_URL points at one; SQLite's
write lock otherwise), the ledger invariants checked afterwards, and the account page's
query count and time with 10 and with 10,000 transactions.

Run with `make bench B=ledger` (or `python -m bench ledger`).
"""

from __future__ import annotations

import datetime
import time
from decimal import Decimal

from bench.common import in_parallel, median, p99, row

D = Decimal
# PostgreSQL takes real concurrency; SQLite serializes every write behind one lock, and its
# busy handler is not fair, so there the load is smaller (a starved thread would time out).
SIZES = {"postgresql": (8, 160, 800), "sqlite": (4, 60, 240)}
THREADS, APPROVALS, POSTINGS = SIZES["postgresql"]


def _work(task: tuple) -> tuple[float | None, str]:
    """One operation in a worker process: (seconds, "") or (None, the error's code)."""
    from compute.models import CreditRequest
    from compute.services.credits import requests, usage
    from governance.models import User

    kind, *args = task
    start = time.perf_counter()
    try:
        if kind == "connect":
            User.objects.exists()
        elif kind == "sign":
            signer_id, request_id = args
            requests.sign_request(User.objects.get(pk=signer_id), CreditRequest.objects.get(pk=request_id))
        elif kind == "usage":
            from charters.models import Charter
            from compute.models import Resource

            source, resource_id, charter_id, hour = args
            usage.post_usage(
                source=source,
                resource=Resource.objects.get(pk=resource_id),
                charter=Charter.objects.get(pk=charter_id),
                hour=datetime.datetime.fromisoformat(hour),
                unit_hours=D("16"),
            )
    except Exception as error:  # noqa: BLE001 - reported to the parent
        return None, getattr(error, "code", type(error).__name__)
    return time.perf_counter() - start, ""


def _in_parallel(tasks: list[tuple], workers: int) -> tuple[list[float], float, list[str]]:
    return in_parallel(_work, tasks, workers)


def _world():
    from django.test import override_settings

    from tests.base import make_body
    from tests.compute.credits import make_world

    # Seating the body hashes a dozen passwords; the slow hasher measures nothing here.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        body = make_body()
        world = make_world(body)
    return body, world


def _submitted(body, world, count: int, amount: str):
    from compute.services.credits import requests

    submitted = []
    for _ in range(count):
        request = requests.create_request(
            body.staff,
            charter=world["charter"],
            resource=world["gpu"],
            pool=world["pool"],
            amount=D(amount),
            justification="benchmark",
            submit=True,
        )
        requests.sign_request(body.public_chair, request)
        submitted.append(request)
    return submitted


def _approvals(body, world, vendor: str) -> list[dict]:
    from compute.services.credits import pools

    pools.update_pool(body.admin, world["pool"], total=D("10000000"))
    serial = _submitted(body, world, APPROVALS // 4, "10")
    sign = "sign", body.private_chair.pk
    serial_samples, serial_wall, serial_errors = _in_parallel([(*sign, r.pk) for r in serial], 1)
    concurrent = _submitted(body, world, APPROVALS, "10")
    samples, wall, errors = _in_parallel([(*sign, r.pk) for r in concurrent], THREADS)
    assert not errors and not serial_errors, (errors or serial_errors)[:3]
    serial_rate = len(serial_samples) / serial_wall
    rate = len(samples) / wall
    return [
        row(
            "ledger",
            "approval (2nd signature + allocation)",
            median(samples) * 1000,
            p99(samples) * 1000,
            median(samples) / median(serial_samples),
            "ms",
            f"{THREADS} processes vs 1, {vendor}",
        ),
        row(
            "ledger",
            f"approvals per second, {THREADS} processes",
            rate,
            None,
            rate / serial_rate,
            "approvals/s",
            f"{len(samples)} approvals; 1 process: {serial_rate:.0f}/s",
        ),
    ]


def _contended(body, world) -> list[dict]:
    """50 approvals racing for a pool that funds 10: exactly 10 win."""
    from compute.choices import RequestStatus
    from compute.models import CreditPool, CreditRequest
    from compute.services.credits import pools, requests

    pool = pools.create_pool(
        body.admin,
        committee=body.committee,
        name="Contended",
        period_start=world["pool"].period_start,
        period_end=world["pool"].period_end,
        total=D("1000"),
    )
    submitted = []
    for _ in range(50):
        request = requests.create_request(
            body.staff,
            charter=world["charter"],
            resource=world["gpu"],
            pool=pool,
            amount=D("100"),
            justification="contention",
            submit=True,
        )
        requests.sign_request(body.public_chair, request)
        submitted.append(request)
    samples, wall, errors = _in_parallel([("sign", body.private_chair.pk, r.pk) for r in submitted], THREADS)
    approved = CreditRequest.objects.filter(pool=pool, status=RequestStatus.APPROVED).count()
    available = CreditPool.objects.select_related("account").get(pk=pool.pk).available
    assert approved == 10 and available == 0, (approved, available)
    assert all(code == "pool_exhausted" for code in errors), errors[:3]
    return [
        row(
            "ledger",
            "50 approvals racing for a pool that funds 10",
            wall * 1000,
            None,
            None,
            "ms",
            f"{approved} approved, {len(errors)} refused (409), pool left {available}",
        )
    ]


def _usage(body, world, vendor: str) -> list[dict]:
    from django.utils import timezone

    from tests.compute.credits import make_charter

    charters = [make_charter(body, f"Bench charter {n}", lead=body.orgs.council) for n in range(THREADS)]
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(days=400)
    keys = [(charters[n % THREADS].pk, start + datetime.timedelta(hours=n // THREADS)) for n in range(POSTINGS)]

    def tasks(source, chosen):
        return [("usage", source, world["cpu"].pk, charter, hour.isoformat()) for charter, hour in chosen]

    serial_samples, serial_wall, _ = _in_parallel(tasks("bench-serial", keys[: POSTINGS // 4]), 1)
    samples, wall, errors = _in_parallel(tasks("bench", keys), THREADS)
    replay, replay_wall, replay_errors = _in_parallel(tasks("bench", keys), THREADS)
    assert not errors and not replay_errors, (errors or replay_errors)[:3]
    serial_rate = len(serial_samples) / serial_wall
    rate = len(samples) / wall
    return [
        row(
            "ledger",
            "usage posting (debit at the rate of its hour)",
            median(samples) * 1000,
            p99(samples) * 1000,
            median(samples) / median(serial_samples),
            "ms",
            f"{THREADS} processes vs 1, {vendor}",
        ),
        row(
            "ledger",
            f"usage postings per second, {THREADS} processes",
            rate,
            None,
            rate / serial_rate,
            "postings/s",
            f"{len(samples)} postings; 1 process: {serial_rate:.0f}/s",
        ),
        row(
            "ledger",
            "usage re-posted (idempotent: charges nothing)",
            median(replay) * 1000,
            p99(replay) * 1000,
            median(replay) / median(samples),
            "ms",
            f"{len(replay)} replays at {len(replay) / replay_wall:.0f}/s",
        ),
    ]


def bulk_usage(account, resource, count: int, start: datetime.datetime) -> None:
    """Write `count` balanced hourly usage debits straight into the tables (the services would
    take minutes to write 10,000), with the accounts' daily summaries as the posting services
    keep them; verify_ledger checks the result like any other."""
    from django.db import transaction
    from django.utils import timezone

    from compute.choices import AccountKind, TransactionKind
    from compute.models import CreditAccount, LedgerEntry, LedgerTransaction, UsageRecord
    from compute.services.credits import posting, resources

    usage = posting.system_account(AccountKind.USAGE)
    pool = account.entries.exclude(pool=None).values_list("pool", flat=True).first()
    rate = resources.current_rate(resource)
    amount = D("0.8000")
    with transaction.atomic():
        txns = LedgerTransaction.objects.bulk_create(
            [
                LedgerTransaction(
                    kind=TransactionKind.USAGE, occurred_at=start + datetime.timedelta(hours=n), memo="bulk"
                )
                for n in range(count)
            ]
        )
        LedgerEntry.objects.bulk_create(
            [
                entry
                for txn in txns
                for entry in (
                    LedgerEntry(transaction=txn, account=account, pool_id=pool, amount=-amount),
                    LedgerEntry(transaction=txn, account=usage, pool_id=pool, amount=amount),
                )
            ]
        )
        UsageRecord.objects.bulk_create(
            [
                UsageRecord(
                    source="bulk",
                    resource=resource,
                    charter=account.charter,
                    hour=txn.occurred_at,
                    unit_hours=D("16"),
                    rate=rate,
                    rate_value=rate.rate,
                    credits=amount,
                    transaction=txn,
                )
                for txn in txns
            ]
        )
        days: dict = {}
        for txn in txns:
            for holder, part in ((account.pk, -amount), (usage.pk, amount)):
                key = (holder, timezone.localdate(txn.occurred_at), TransactionKind.USAGE)
                total, entries = days.get(key, (D(0), 0))
                days[key] = (total + part, entries + 1)
        posting.add_to_days(days)
        for holder, delta in ((account, -amount * count), (usage, amount * count)):
            locked = CreditAccount.objects.select_for_update().get(pk=holder.pk)
            CreditAccount.objects.filter(pk=holder.pk).update(balance=locked.balance + delta)


def funded_account(body, world):
    """The council's charter, awarded 9,000 credits by both co-chairs: its account."""
    from compute.services.credits import pools, requests
    from tests.compute.credits import make_charter

    charter = make_charter(body, "Page benchmark", lead=body.orgs.council)
    request = requests.create_request(
        body.staff,
        charter=charter,
        resource=world["cpu"],
        pool=world["pool"],
        amount=D("9000"),
        justification="page benchmark",
        submit=True,
    )
    requests.sign_request(body.public_chair, request)
    requests.sign_request(body.private_chair, request)
    return pools.open_account(charter)


def _account_page(body, world) -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench.common import timings

    account = funded_account(body, world)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(days=500)
    client = Client(SERVER_NAME="localhost")  # a host ALLOWED_HOSTS accepts outside the test runner
    client.force_login(body.staff)
    url = f"/compute/accounts/{account.pk}/"

    def measure():
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, response.status_code
        return len(queries), timings(lambda: client.get(url), repeat=20, warmup=2)

    bulk_usage(account, world["cpu"], 9, start)  # with the allocation: 10 transactions
    few_queries, few = measure()
    bulk_usage(account, world["cpu"], 9990, start + datetime.timedelta(hours=9))  # 10,000
    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk write on a live database: fresh planner statistics.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    many_queries, many = measure()
    return [
        row(
            "ledger",
            "account page queries, 10,000 transactions",
            many_queries,
            None,
            many_queries / few_queries,
            "queries",
            f"{few_queries} with 10 transactions",
        ),
        row(
            "ledger",
            "account page, 10,000 transactions",
            median(many) * 1000,
            p99(many) * 1000,
            median(many) / median(few),
            "ms",
            f"ratio vs 10 transactions ({median(few) * 1000:.0f} ms)",
        ),
    ]


def run() -> list[dict]:
    from django.db import connection
    from django.test import override_settings

    global THREADS, APPROVALS, POSTINGS  # noqa: PLW0603 - sized once per run for the backend
    THREADS, APPROVALS, POSTINGS = SIZES.get(connection.vendor, SIZES["sqlite"])
    # Alerts fire during the run; their emails go to memory, not to the console.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        return _run(connection.vendor)


def _run(vendor: str) -> list[dict]:
    from compute.models import LedgerTransaction
    from compute.services.credits import verification

    body, world = _world()
    rows = _approvals(body, world, vendor)
    rows += _contended(body, world)
    rows += _usage(body, world, vendor)
    rows += _account_page(body, world)
    start = time.perf_counter()
    report = verification.verify_ledger()
    elapsed = time.perf_counter() - start
    assert report.ok, report.problems[:5]
    count = LedgerTransaction.objects.count()
    rows.append(
        row("ledger", "verify_ledger (invariants hold)", elapsed * 1000, None, None, "ms", f"{count} transactions: ok")
    )
    return rows


if __name__ == "__main__":
    import sys

    from bench.__main__ import main

    sys.exit(main(["ledger"]))
