"""Transfers with both leads' consent, expiry back to the pool, refunds approved by a co-chair,
corrections by reversal, and the alerts and forecast of an account."""

import datetime
from decimal import Decimal
from io import StringIO

from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from compute import selectors
from compute.choices import AccountKind, RefundStatus, TransactionKind, TransferStatus
from compute.models import CreditAccount, CreditAlert, LedgerEntry, LedgerTransaction, UsageRecord
from compute.services.credits import batches, pools, refunds, transfers, usage, verification
from governance.exceptions import DomainError
from governance.models import AuditEvent
from governance.models.base import AppendOnlyError
from tests.compute.credits import CreditsTestCase, make_charter

D = Decimal


class LedgerOperationTests(CreditsTestCase):
    def setUp(self):
        self.hour = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=1)
        self.approve(self.request_credits(1000))
        self.wind = make_charter(self.body, "Wind farm siting", lead=self.orgs.helios)
        self.approve(self.request_credits(1000, by=self.private_staff, charter=self.wind))

    def use(self, unit_hours, *, charter=None, hours_ago=1):
        return usage.post_usage(
            source="prometheus",
            resource=self.gpu,
            charter=charter or self.charter,
            hour=self.hour - datetime.timedelta(hours=hours_ago - 1),
            unit_hours=D(str(unit_hours)),
        )

    # Transfers

    def test_a_transfer_needs_both_leads_and_then_moves_the_credits(self):
        source, target = self.account(), self.account(self.wind)
        transfer = transfers.propose_transfer(
            self.staff, source=source, target=target, amount="300", reason="Shared run"
        )
        self.assertEqual(transfer.status, TransferStatus.PROPOSED)
        self.assertEqual(self.refresh(source).balance, D("1000"))
        with self.assertRaises(PermissionDenied):
            transfers.consent_transfer(self.outsider, transfer)
        with self.assertRaisesMessage(DomainError, "already consented"):
            transfers.consent_transfer(self.staff, transfer)
        transfer = transfers.consent_transfer(self.private_staff, transfer)
        self.assertEqual(transfer.status, TransferStatus.COMPLETED)
        self.assertEqual((self.refresh(source).balance, self.refresh(target).balance), (D("700"), D("1300")))
        self.assertEqual(transfer.transaction.kind, TransactionKind.TRANSFER)

    def test_a_transfer_cannot_move_more_than_the_source_holds(self):
        source, target = self.account(), self.account(self.wind)
        transfer = transfers.propose_transfer(self.staff, source=source, target=target, amount="900", reason="All in")
        self.use(200)  # 500 credits used meanwhile
        with self.assertRaises(DomainError) as caught:
            transfers.consent_transfer(self.private_staff, transfer)
        self.assertEqual(caught.exception.extra["available"], "500.0000")
        self.assertEqual(self.refresh(transfer).status, TransferStatus.PROPOSED)

    def test_a_transfer_can_be_declined_or_cancelled(self):
        source, target = self.account(), self.account(self.wind)
        declined = transfers.propose_transfer(self.staff, source=source, target=target, amount="1", reason="x")
        self.assertEqual(transfers.decline_transfer(self.private_staff, declined).status, TransferStatus.DECLINED)
        cancelled = transfers.propose_transfer(self.staff, source=source, target=target, amount="1", reason="x")
        self.assertEqual(transfers.decline_transfer(self.staff, cancelled).status, TransferStatus.CANCELLED)
        self.assertEqual(self.refresh(source).balance, D("1000"))

    # Expiry

    def test_unspent_credits_go_back_to_the_pool_when_its_period_ends(self):
        self.use(100)  # 250 used of 1,000
        after = self.pool.period_end + datetime.timedelta(days=1)
        self.assertEqual(pools.expire_pools(today=self.pool.period_end), 0)  # not over yet
        self.assertEqual(pools.expire_pools(today=after), 2)
        self.assertEqual(self.account().balance, 0)
        self.assertEqual(self.account(self.wind).balance, 0)
        self.pool.refresh_from_db()
        self.assertEqual(self.pool.account.balance, D("100000") - D("2000") + D("750") + D("1000"))
        self.assertIsNotNone(self.pool.expired_at)
        # Running it again returns nothing more.
        self.assertEqual(pools.expire_pools(today=after), 0)
        summary = selectors.account_summary(self.account())
        self.assertEqual((summary.allocated, summary.consumed, summary.expired), (D("1000"), D("250"), D("750")))

    # Refunds and reversals

    def test_a_refund_reverses_the_named_debits_once_both_co_chairs_approve(self):
        faulty, fine = self.use(40), self.use(40, hours_ago=2)
        refund = refunds.request_refund(self.staff, account=self.account(), debits=[faulty], reason="Node failure")
        self.assertEqual(self.account().balance, D("800"))
        with self.assertRaises(PermissionDenied):
            refunds.decide_refund(self.staff, refund, approve=True)
        refund = refunds.decide_refund(self.public_chair, refund, approve=True, note="Confirmed by the operator")
        self.assertEqual(refund.status, RefundStatus.REQUESTED)
        self.assertEqual(self.account().balance, D("800"))
        refund = refunds.decide_refund(self.private_chair, refund, approve=True, note="Seen the incident report")
        self.assertEqual(refund.status, RefundStatus.APPROVED)
        self.assertEqual(self.account().balance, D("900"))
        self.assertEqual(faulty.reversed_by.get().kind, TransactionKind.REVERSAL)
        self.assertFalse(LedgerTransaction.objects.filter(reverses=fine).exists())
        with self.assertRaises(Exception):  # noqa: B017 - ValidationError: already reversed
            refunds.request_refund(self.staff, account=self.account(), debits=[faulty], reason="again")
        self.assertEqual(selectors.account_summary(self.account()).consumed, D("100"))

    def batch(self, hours, unit_hours="4"):
        """A batch of `hours` hours of GPU use ending an hour ago: one debit per day."""
        lines = [
            batches.usage_line(
                source="slurm",
                resource_id=self.gpu.pk,
                charter_id=self.charter.pk,
                hour=self.hour - datetime.timedelta(hours=h),
                unit_hours=unit_hours,
            )
            for h in range(hours)
        ]
        return usage.post_usage_batch(lines, source="slurm")

    def refund_records(self, records, reason="Node failure"):
        refund = refunds.request_refund(self.staff, account=self.account(), records=records, reason=reason)
        refunds.decide_refund(self.public_chair, refund, approve=True)
        return refunds.decide_refund(self.private_chair, refund, approve=True)

    def test_a_refund_gives_back_some_hours_of_a_days_debit(self):
        self.batch(3)  # 3 hours x 4 GPU-hours x 2.5 = 30 credits
        records = list(UsageRecord.objects.filter(charter=self.charter).order_by("hour"))
        debits = {record.transaction_id for record in records}
        self.assertLessEqual(len(debits), 2)  # the three hours fall on one day or two
        refund = self.refund_records(records[:1])
        self.assertEqual(refund.status, RefundStatus.APPROVED)
        self.assertEqual(self.account().balance, D("1000") - D("20"))
        reversal = LedgerTransaction.objects.get(reverses_id=records[0].transaction_id)
        self.assertEqual(
            sorted(reversal.entries.values_list("amount", flat=True)), [D("-10"), D("10")]
        )  # back from the usage account, into the charter's
        # The same hour again is refused; another hour of the same debit is not.
        with self.assertRaisesMessage(ValidationError, "Already refunded"):
            refunds.request_refund(self.staff, account=self.account(), records=records[:1], reason="again")
        self.refund_records(records[1:2], reason="Second fault")
        self.assertEqual(self.account().balance, D("1000") - D("10"))
        self.assertEqual(selectors.account_summary(self.account()).consumed, D("10"))
        self.assertEqual(verification.verify_ledger().problems, [])

    def test_a_debit_refunded_in_part_is_not_reversed_whole(self):
        self.batch(1)
        record = UsageRecord.objects.get(charter=self.charter)
        self.refund_records([record])
        with self.assertRaisesMessage(DomainError, "already been reversed"):
            refunds.propose_reversal(self.admin, record.transaction, memo="double count")

    def test_two_refunds_of_the_same_hours_give_them_back_once(self):
        self.batch(2)
        records = list(UsageRecord.objects.filter(charter=self.charter))
        first = refunds.request_refund(self.staff, account=self.account(), records=records, reason="one")
        second = refunds.request_refund(self.staff, account=self.account(), records=records[:1], reason="two")
        for refund in (first, second):
            refunds.decide_refund(self.public_chair, refund, approve=True)
        refunds.decide_refund(self.private_chair, first, approve=True)
        with self.assertRaisesMessage(DomainError, "already gave back"):
            refunds.decide_refund(self.private_chair, second, approve=True)
        self.assertEqual(self.account().balance, D("1000"))
        self.assertEqual(self.refresh(second).status, RefundStatus.REQUESTED)

    def test_a_whole_debit_named_refunds_every_hour_it_charged(self):
        result = self.batch(2)
        debit = LedgerTransaction.objects.filter(usage_records__batch=result.batch).distinct().first()
        refund = refunds.request_refund(self.staff, account=self.account(), debits=[debit], reason="Rack down")
        self.assertEqual(set(refund.records.all()), set(debit.usage_records.all()))

    def test_a_rejected_refund_changes_nothing(self):
        debit = self.use(40)
        refund = refunds.request_refund(self.staff, account=self.account(), debits=[debit], reason="Slow jobs")
        refunds.decide_refund(self.private_chair, refund, approve=False, note="Not a fault")
        self.assertEqual(self.account().balance, D("900"))
        with self.assertRaisesMessage(DomainError, "already rejected"):
            refunds.decide_refund(self.public_chair, refund, approve=True)

    def test_a_transaction_is_reversed_at_most_once_and_never_edited(self):
        debit = self.use(10)
        self.reverse(debit)
        with self.assertRaisesMessage(DomainError, "already been reversed"):
            refunds.propose_reversal(self.admin, debit, memo="again")
        with self.assertRaises(AppendOnlyError):
            debit.memo = "changed"
            debit.save()
        with self.assertRaises(AppendOnlyError):
            LedgerEntry.objects.filter(transaction=debit).update(amount=1)
        with self.assertRaises(AppendOnlyError):
            debit.delete()

    def test_the_database_itself_refuses_to_edit_the_ledger(self):
        debit = self.use(10)
        with self.assertRaises(Exception), connection.cursor() as cursor:  # noqa: B017 - the trigger's error
            cursor.execute("UPDATE compute_ledgerentry SET amount = 1 WHERE transaction_id = %s", [debit.pk])

    def test_a_reversal_cannot_take_a_charter_below_zero(self):
        self.use(400)  # the whole 1,000 is spent
        with self.assertRaisesMessage(DomainError, "below zero"):
            self.reverse(self.charter.credit_requests.get().allocation, memo="x")

    def test_a_reversal_is_written_only_once_both_sectors_co_chairs_approve(self):
        account = self.refresh(self.account())
        balance = account.balance
        debit = self.use(10)
        self.assertLess(self.refresh(account).balance, balance)
        proposal = refunds.propose_reversal(self.admin, debit, memo="Double-counted by the collector")
        self.assertEqual(proposal.committee, self.charter.committee)
        with self.assertRaisesMessage(DomainError, "already waits"):
            refunds.propose_reversal(self.admin, debit, memo="twice")
        proposal = refunds.decide_reversal(self.public_chair, proposal, approve=True)
        self.assertEqual(proposal.status, RefundStatus.REQUESTED)
        self.assertFalse(LedgerTransaction.objects.filter(reverses=debit).exists())
        with self.assertRaisesMessage(DomainError, "already approved"):
            refunds.decide_reversal(self.public_chair, proposal, approve=True)
        proposal = refunds.decide_reversal(self.private_chair, proposal, approve=True, note="Seen the logs")
        self.assertEqual(proposal.status, RefundStatus.APPROVED)
        self.assertEqual(proposal.reversal.reverses, debit)
        self.assertEqual(self.refresh(account).balance, balance)
        self.assertEqual(
            list(AuditEvent.objects.filter(object_type="compute.ledgerreversal").values_list("verb", flat=True)),
            [
                "ledger_reversal.proposed",
                "ledger_reversal.approval_given",
                "ledger_reversal.approval_given",
                "ledger_reversal.approved",
            ],
        )

    def test_one_co_chair_turns_a_reversal_down_and_nothing_moves(self):
        debit = self.use(10)
        proposal = refunds.propose_reversal(self.admin, debit, memo="Looks wrong")
        proposal = refunds.decide_reversal(self.private_chair, proposal, approve=False, note="It was real use")
        self.assertEqual(proposal.status, RefundStatus.REJECTED)
        with self.assertRaisesMessage(DomainError, "already rejected"):
            refunds.decide_reversal(self.public_chair, proposal, approve=True)
        self.assertFalse(LedgerTransaction.objects.filter(reverses=debit).exists())
        # Turned down once, it may be proposed again with new evidence.
        refunds.propose_reversal(self.admin, debit, memo="The operator confirms a double count")

    def test_no_one_person_reverses_alone(self):
        debit = self.use(10)
        for person in (self.public_chair, self.staff, self.secretary):
            with self.assertRaises(PermissionDenied):
                refunds.propose_reversal(person, debit, memo="x")
        proposal = refunds.propose_reversal(self.admin, debit, memo="x")
        for person in (self.admin, self.staff, self.secretary):
            with self.assertRaises(PermissionDenied):
                refunds.decide_reversal(person, proposal, approve=True)
        with self.assertRaises(ValidationError):
            refunds.propose_reversal(self.admin, debit, memo="  ")

    # Alerts and forecast

    def test_alerts_fire_once_per_threshold(self):
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            self.use(200)  # 500 of 1,000: nothing
        self.assertFalse(CreditAlert.objects.exists())
        with self.captureOnCommitCallbacks(execute=True):
            self.use(100, hours_ago=2)  # 750: 75 %
        with self.captureOnCommitCallbacks(execute=True):
            self.use(1, hours_ago=3)  # still between 75 and 90: nothing new
        self.assertEqual(list(CreditAlert.objects.values_list("threshold", flat=True)), [75])
        with self.captureOnCommitCallbacks(execute=True):
            self.use(200, hours_ago=4)  # past 90 and 100 at once
        self.assertEqual(sorted(CreditAlert.objects.values_list("threshold", flat=True)), [75, 90, 100])
        with self.captureOnCommitCallbacks(execute=True):
            self.use(10, hours_ago=5)
        self.assertEqual(CreditAlert.objects.count(), 3)
        self.assertEqual(len(mail.outbox), 2)  # one per posting that crossed something: 75, then 100
        self.assertIn("has used all of its 1,000 credits", mail.outbox[1].subject)
        self.assertEqual(mail.outbox[0].to, ["sam@example.org"])

    def test_a_new_award_rearms_the_thresholds(self):
        self.use(320)  # 800 of 1,000
        self.approve(self.request_credits(1000))
        self.use(400, hours_ago=2)  # 1,800 of 2,000: 75 % of the new allocation
        self.assertEqual(
            sorted(CreditAlert.objects.values_list("allocation", "threshold")),
            [(D("1000"), 75), (D("2000"), 75), (D("2000"), 90)],
        )

    def test_the_forecast_uses_the_last_fourteen_days_of_burn(self):
        for day in range(14):
            self.use(4, hours_ago=1 + 24 * day)  # 10 credits a day
        self.use(400, hours_ago=24 * 20)  # older than the window: not in the rate
        account = self.account()  # 1000 - 140 - 1000 → overdrawn
        self.assertIsNone(selectors.forecast_exhaustion(account))  # gone already: no forecast
        self.approve(self.request_credits(1000))
        account = self.account()
        self.assertEqual(account.balance, D("860"))
        self.assertEqual(selectors.burn_rate(account), D("10"))
        self.assertEqual(selectors.forecast_exhaustion(account), timezone.localdate() + datetime.timedelta(days=86))

    def test_no_recent_burn_means_no_forecast(self):
        self.assertIsNone(selectors.forecast_exhaustion(self.account()))

    # Verification

    def test_the_verify_command_checks_cached_balances_against_entries(self):
        self.use(10)
        out = StringIO()
        call_command("verify_ledger", stdout=out)
        self.assertIn("Credit ledger consistent", out.getvalue())
        CreditAccount.objects.filter(kind=AccountKind.CHARTER, charter=self.charter).update(balance=D("5"))
        with self.assertRaisesMessage(CommandError, "Credit ledger inconsistent: 1 problem"):
            call_command("verify_ledger", stdout=StringIO(), stderr=StringIO())
