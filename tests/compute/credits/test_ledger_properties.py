"""Property tests of the ledger: whatever sequence of awards, usage, transfers, refunds, pool
changes and expiries happens, every transaction sums to zero (overall and per pool), every
balance equals the sum of its entries, and no pool is ever over-committed."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from compute import selectors
from compute.choices import AccountKind, TransactionKind
from compute.models import CreditAccount, CreditPool, LedgerEntry, LedgerTransaction, UsageRecord
from compute.models.ledger import exact
from compute.services.credits import batches, pools, refunds, requests, transfers, usage, verification
from governance.exceptions import DomainError
from tests.compute.credits import CreditsTestCase, make_charter

D = Decimal
credit_amounts = st.decimals(min_value=D("0.01"), max_value=D("6000"), places=2, allow_nan=False, allow_infinity=False)
unit_hours = st.decimals(min_value=D("0"), max_value=D("800"), places=3, allow_nan=False, allow_infinity=False)
charter_index = st.integers(min_value=0, max_value=2)
pool_index = st.integers(min_value=0, max_value=1)

WINDOW = datetime.timedelta(days=refunds.REFUND_WINDOW_DAYS - 1)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("award"), charter_index, pool_index, credit_amounts, st.booleans()),
        st.tuples(st.just("use"), charter_index, st.integers(0, 2), unit_hours, st.integers(0, 2000)),
        st.tuples(st.just("transfer"), charter_index, charter_index, credit_amounts),
        st.tuples(st.just("refund"), st.integers(0, 50)),
        st.tuples(
            st.just("batch"), charter_index, st.integers(0, 2), unit_hours, st.integers(1, 40), st.integers(0, 150)
        ),
        st.tuples(st.just("refund_hours"), st.integers(0, 50), st.integers(1, 5)),
        st.tuples(st.just("resize"), pool_index, credit_amounts, st.booleans()),
        st.tuples(st.just("expire"), pool_index),
    ),
    min_size=1,
    max_size=12,
)


class LedgerPropertyTests(HypothesisTestCase, CreditsTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.wind = make_charter(cls.body, "Wind farm siting", lead=cls.orgs.helios)
        cls.solar = make_charter(cls.body, "Solar forecasting", lead=cls.orgs.council)
        today = timezone.localdate()
        cls.small_pool = pools.create_pool(
            cls.admin,
            committee=cls.committee,
            name="Bridge budget",
            period_start=today - datetime.timedelta(days=10),
            period_end=today + datetime.timedelta(days=20),
            total=D("8000"),
        )

    def run_operation(self, operation, charters, budgets, resources, now):
        kind = operation[0]
        if kind == "award":
            _, who, which, amount, partial = operation
            request = requests.create_request(
                self.admin, charter=charters[who], resource=self.gpu, pool=budgets[which], amount=amount,
                justification="property test", submit=True,
            )  # fmt: skip
            award = (amount / 2).quantize(D("0.01")) if partial and amount >= D("0.02") else None
            reason = "pool_limited" if award is not None else ""
            requests.sign_request(self.public_chair, request, amount=award, reason_code=reason)
            requests.sign_request(self.private_chair, request, amount=award, reason_code=reason)
        elif kind == "use":
            _, who, which, hours, hours_ago = operation
            usage.post_usage(
                source="property", resource=resources[which], charter=charters[who],
                hour=now - datetime.timedelta(hours=hours_ago), unit_hours=hours,
            )  # fmt: skip
        elif kind == "batch":
            _, who, which, hours, count, hours_ago = operation
            lines = [
                batches.usage_line(
                    source="property-batch",
                    resource_id=resources[which].pk,
                    charter_id=charters[who].pk,
                    hour=now - datetime.timedelta(hours=hours_ago + h),
                    unit_hours=hours,
                )  # fmt: skip
                for h in range(count)
            ]
            usage.post_usage_batch(lines, source="property-batch")
        elif kind == "refund_hours":
            _, first, count = operation
            open_hours = list(
                refunds.not_given_back(
                    UsageRecord.objects.filter(credits__gt=0, transaction__isnull=False, hour__gte=now - WINDOW)
                ).order_by("pk")
            )
            if not open_hours:
                return
            chosen = open_hours[first % len(open_hours) :][:count]
            charter = chosen[0].charter
            chosen = [record for record in chosen if record.charter_id == charter.pk]
            account = pools.open_account(charter)
            refund = refunds.request_refund(self._lead(charter), account=account, records=chosen, reason="fault")
            refunds.decide_refund(self.public_chair, refund, approve=True)
            refunds.decide_refund(self.private_chair, refund, approve=True)
        elif kind == "transfer":
            _, source, target, amount = operation
            if source == target:
                return
            transfer = transfers.propose_transfer(
                self._lead(charters[source]),
                source=pools.open_account(charters[source]),
                target=pools.open_account(charters[target]),
                amount=amount,
                reason="property test",
            )
            if transfer.status == "proposed":
                transfers.consent_transfer(self._lead(charters[target]), transfer)
        elif kind == "refund":
            debits = list(LedgerTransaction.objects.filter(kind=TransactionKind.USAGE).order_by("pk"))
            if debits:
                debit = debits[operation[1] % len(debits)]
                self.reverse(debit, memo="property test")
        elif kind == "resize":
            _, which, amount, up = operation
            pool = CreditPool.objects.get(pk=budgets[which].pk)
            pools.update_pool(self.admin, pool, total=pool.total + amount if up else max(pool.total - amount, D(0)))
        elif kind == "expire":
            pool = budgets[operation[1]]
            pools.expire_pool(pool, today=pool.period_end + datetime.timedelta(days=1))

    def _lead(self, charter):
        return self.staff if charter.lead_organization_id == self.orgs.council.pk else self.private_staff

    def assert_invariants(self):
        report = verification.verify_ledger()
        self.assertTrue(report.ok, report.problems)
        for txn in LedgerTransaction.objects.prefetch_related("entries"):
            self.assertEqual(sum(e.amount for e in txn.entries.all()), 0, txn)
        for account in CreditAccount.objects.all():
            total = exact(LedgerEntry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"])
            self.assertEqual(account.balance, total, account)
            if account.kind == AccountKind.POOL:
                self.assertGreaterEqual(account.balance, 0, "a pool is over-committed")
        for pool in CreditPool.objects.select_related("account"):
            allocations = LedgerEntry.objects.filter(account=pool.account, transaction__kind=TransactionKind.ALLOCATION)
            allocated = -exact(allocations.aggregate(total=Sum("amount"))["total"])
            returned = LedgerEntry.objects.filter(account=pool.account, transaction__kind__in=["expiry", "reversal"])
            returned = exact(returned.aggregate(total=Sum("amount"))["total"])
            self.assertLessEqual(allocated - returned, pool.total, f"{pool} allocated more than its total")
        for account in CreditAccount.objects.filter(kind=AccountKind.CHARTER):
            charged = refunds.not_given_back(UsageRecord.objects.filter(charter=account.charter))
            charged = exact(charged.aggregate(total=Sum("credits"))["total"])
            summary = selectors.account_summary(account)
            self.assertEqual(summary.consumed, charged)
            self.assertEqual(summary.balance, summary.allocated - summary.consumed - summary.expired)

    @settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(operations)
    def test_the_ledger_invariants_hold_for_any_sequence_of_operations(self, ops):
        charters = [self.charter, self.wind, self.solar]
        budgets = [self.pool, self.small_pool]
        resources = [self.gpu, self.cpu, self.us_gpu]
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        for operation in ops:
            try:
                self.run_operation(operation, charters, budgets, resources, now)
            except (DomainError, ValidationError, PermissionDenied):
                # Refused operations (an empty pool, an expired one, too few credits) must
                # leave the ledger as consistent as accepted ones.
                pass
            self.assert_invariants()
