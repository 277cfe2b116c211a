"""Concurrency on a real PostgreSQL, with real threads: a pool is never over-committed, two
co-chairs signing at the same moment approve once, and a usage key charges once."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import TransactionTestCase, override_settings
from django.utils import timezone

from compute.choices import RequestStatus, TransactionKind
from compute.models import CreditRequest, LedgerTransaction, UsageRecord
from compute.services.credits import pools, requests, usage, verification
from governance import services
from governance.choices import SubjectType
from governance.exceptions import DomainError
from tests.base import make_body
from tests.compute.credits import make_world

D = Decimal


def race(worker, arguments) -> tuple[list, list]:
    """Run worker(argument) for each argument in its own thread, all released at once.
    Returns (results, errors)."""
    barrier = threading.Barrier(len(arguments))
    results, errors, lock = [], [], threading.Lock()

    def run(argument):
        try:
            barrier.wait()
            outcome = worker(argument)
            with lock:
                results.append(outcome)
        except Exception as error:  # noqa: BLE001 - collected and asserted by the test
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.postgres
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class ConcurrentLedgerTests(TransactionTestCase):
    def setUp(self):
        self.body = make_body()
        self.world = make_world(self.body)
        self.pool, self.charter = self.world["pool"], self.world["charter"]

    def submitted(self, amount, count):
        return [
            requests.create_request(
                self.body.staff,
                charter=self.charter,
                resource=self.world["gpu"],
                pool=self.pool,
                amount=amount,
                justification="Concurrent runs",
                submit=True,
            )
            for _ in range(count)
        ]

    # The pool's row lock is under test, not the dual-control limit, which counts one charter's
    # signed awards together and would send most of these requests to a ballot: lifted here.
    @override_settings(DUAL_CONTROL_LIMIT=1_000_000_000)
    def test_fifty_concurrent_approvals_against_a_pool_that_funds_ten_approve_exactly_ten(self):
        pools.update_pool(self.body.admin, self.pool, total=D("10000"))
        submitted = self.submitted(D("1000"), 50)
        for request in submitted:
            requests.sign_request(self.body.public_chair, request)

        results, errors = race(lambda request: requests.sign_request(self.body.private_chair, request), submitted)

        self.assertEqual(len(results), 10)
        self.assertEqual(len(errors), 40)
        self.assertTrue(all(isinstance(e, DomainError) and e.code == "pool_exhausted" for e in errors), errors[:3])
        self.assertEqual(CreditRequest.objects.filter(status=RequestStatus.APPROVED).count(), 10)
        self.assertEqual(CreditRequest.objects.filter(status=RequestStatus.SUBMITTED).count(), 40)
        self.pool.refresh_from_db()
        self.assertEqual(self.pool.account.balance, 0)
        self.assertEqual(pools.open_account(self.charter).balance, D("10000"))
        report = verification.verify_ledger()
        self.assertTrue(report.ok, report.problems)

    def test_both_co_chairs_signing_at_the_same_moment_approve_once(self):
        submitted = self.submitted(D("500"), 8)
        for request in submitted:
            chairs = [self.body.public_chair, self.body.private_chair]
            results, errors = race(lambda chair, request=request: requests.sign_request(chair, request), chairs)
            self.assertEqual(errors, [])
            request.refresh_from_db()
            self.assertEqual(request.status, RequestStatus.APPROVED)
            self.assertEqual(request.signatures.count(), 2)
        self.assertEqual(LedgerTransaction.objects.filter(kind=TransactionKind.ALLOCATION).count(), 8)
        self.assertEqual(pools.open_account(self.charter).balance, D("4000"))
        self.assertTrue(verification.verify_ledger().ok)

    def test_the_same_co_chair_signing_twice_at_once_is_counted_once(self):
        (request,) = self.submitted(D("500"), 1)
        results, errors = race(lambda _: requests.sign_request(self.body.public_chair, request), [1, 2, 3])
        self.assertEqual(len(results), 1)
        self.assertTrue(all(e.code == "already_signed" for e in errors))
        request.refresh_from_db()
        self.assertEqual((request.status, request.signatures.count()), (RequestStatus.SUBMITTED, 1))

    def test_the_same_usage_posted_by_concurrent_collectors_charges_once(self):
        hour = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=2)

        def post(_):
            return usage.post_usage(
                source="prometheus", resource=self.world["gpu"], charter=self.charter, hour=hour, unit_hours=D("4")
            )

        results, errors = race(post, range(12))
        self.assertEqual(errors, [])
        self.assertEqual(len([r for r in results if r is not None]), 1)
        self.assertEqual(UsageRecord.objects.count(), 1)
        self.assertEqual(pools.open_account(self.charter).balance, D("-10"))
        self.assertTrue(verification.verify_ledger().ok)

    def test_usage_approvals_and_transfers_racing_keep_the_ledger_balanced(self):
        pools.update_pool(self.body.admin, self.pool, total=D("6000"))
        submitted = self.submitted(D("1000"), 10)
        for request in submitted:
            requests.sign_request(self.body.public_chair, request)
        start = timezone.now().replace(minute=0, second=0, microsecond=0)

        def work(n):
            if n < 10:
                return requests.sign_request(self.body.private_chair, submitted[n])
            return usage.post_usage(
                source="node-exporter",
                resource=self.world["cpu"],
                charter=self.charter,
                hour=start - datetime.timedelta(hours=n),
                unit_hours=D("100"),
            )

        results, errors = race(work, range(40))
        self.assertEqual(len(errors), 4)  # the pool funds six of the ten
        self.pool.refresh_from_db()
        self.assertEqual(self.pool.account.balance, 0)
        self.assertEqual(pools.open_account(self.charter).balance, D("6000") - 30 * D("5"))
        report = verification.verify_ledger()
        self.assertTrue(report.ok, report.problems)

    # The six small requests of one charter stay within the limit together; the big one does not.
    @override_settings(DUAL_CONTROL_LIMIT=15_000)
    def test_a_ballot_closing_while_co_chairs_sign_on_the_same_pool_neither_deadlocks_nor_over_commits(self):
        pools.update_pool(self.body.admin, self.pool, total=D("25000"))
        (big,) = self.submitted(D("20000"), 1)
        small = self.submitted(D("2000"), 6)
        for request in small:
            requests.sign_request(self.body.public_chair, request)
        ballot = services.create_ballot(
            self.body.public_chair,
            committee=self.body.committee,
            title="Big request",
            subject_type=SubjectType.CREDIT_REQUEST,
            subject_id=big.pk,
        )
        ballot = services.open_ballot(self.body.public_chair, ballot)
        for person in (self.body.public_chair, self.body.private_chair, self.body.private_member):
            services.cast_vote(person, ballot, "yes")

        def work(n):
            if n == 0:
                return services.close_ballot(self.body.public_chair, ballot)
            return requests.sign_request(self.body.private_chair, small[n - 1])

        results, errors = race(work, range(7))
        self.assertTrue(all(isinstance(e, DomainError) and e.code == "pool_exhausted" for e in errors), errors)
        big.refresh_from_db()
        self.assertIn(big.status, (RequestStatus.APPROVED, RequestStatus.PARTIALLY_APPROVED, RequestStatus.REJECTED))
        self.pool.refresh_from_db()
        self.assertGreaterEqual(self.pool.account.balance, 0)
        awarded = sum(r.approved_amount or 0 for r in CreditRequest.objects.all())
        self.assertEqual(awarded + self.pool.account.balance, D("25000"))
        report = verification.verify_ledger()
        self.assertTrue(report.ok, report.problems)
