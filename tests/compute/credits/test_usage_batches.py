"""Usage posted in batches charges exactly what posting each line on its own charges: the same
balances, the same debits (rate, credits, entries per pool) and the same alerts, whatever the
history; re-running or overlapping batches charges each key once; a dry run writes nothing; and
the batch's one audit event commits to every debit, each provable on its own."""

import base64
import contextlib
import dataclasses
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.test import TransactionTestCase, override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from compute import selectors
from compute.choices import AccountKind
from compute.models import (
    AccountDay,
    CreditAccount,
    CreditAlert,
    LedgerEntry,
    LedgerTransaction,
    UsageBatch,
    UsageRecord,
)
from compute.services.credits import (
    batches,
    debits,
    leaves,
    pools,
    posting,
    resources,
    table_sql,
    usage,
    verification,
)
from governance.exceptions import DomainError
from governance.models import AuditEvent
from governance.transparency.replay import replay
from tests.compute.credits import CreditsTestCase, make_charter, make_world
from tests.governance.transparency.test_replay import raw_update
from tests.support.races import together

D = Decimal

lines_strategy = st.lists(
    st.tuples(
        st.integers(0, 2),  # charter
        st.integers(0, 1),  # resource
        st.integers(0, 23),  # hour
        st.decimals(min_value=D("0"), max_value=D("300"), places=3, allow_nan=False, allow_infinity=False),
        st.integers(0, 1),  # source
    ),
    min_size=1,
    max_size=40,
)


class Rollback(Exception):
    pass


def snapshot() -> dict:
    """Everything a posting decides, keyed so that two runs can be compared whatever ids they got:
    each record's charge, what each account drew from each pool for usage, the balances and the
    alerts. (A batch charges an account's records of one day in one debit, where posting them one
    by one gives each its own: verify_ledger checks that each debit charged what its records say.)"""
    records = {}
    for record in UsageRecord.objects.order_by("pk"):
        key = (record.source, record.resource_id, record.charter_id, record.hour)
        records[key] = (record.unit_hours, record.rate_id, record.rate_value, record.credits, record.credits > 0)
    drawn = (
        LedgerEntry.objects.filter(transaction__kind="usage")
        .values("account", "pool")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("account", "pool", "total")
    )
    return {
        "balances": dict(CreditAccount.objects.values_list("pk", "balance")),
        "records": records,
        "drawn": sorted((account, pool or 0, total) for account, pool, total in drawn if total),
        "charged": sorted(
            UsageRecord.objects.filter(transaction__isnull=False).values_list("source", "resource", "charter", "hour")
        ),
        "alerts": sorted(CreditAlert.objects.values_list("account_id", "threshold", "allocation")),
    }


class BatchWorld(CreditsTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        today = timezone.localdate()
        cls.wind = make_charter(cls.body, "Wind farm siting", lead=cls.orgs.helios)
        cls.bridge = pools.create_pool(
            cls.admin,
            committee=cls.committee,
            name="Bridge budget",
            period_start=today - datetime.timedelta(days=10),
            period_end=today + datetime.timedelta(days=20),
            total=D("8000"),
        )
        cls.charters = [cls.charter, cls.wind, cls.restricted]
        for charter in cls.charters:
            pools.open_account(charter)
        posting.system_account(AccountKind.USAGE)
        cls.base = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(days=2)

    def line(self, charter, resource, hour, unit_hours, source=0):
        return batches.usage_line(
            source=("slurm", "prometheus")[source],
            resource_id=(self.gpu, self.cpu)[resource].pk,
            charter_id=self.charters[charter].pk,
            hour=self.base + datetime.timedelta(hours=hour),
            unit_hours=unit_hours,
        )

    def charged_one_by_one(self, lines) -> dict:
        """The snapshot after posting each line on its own, rolled back."""
        try:
            with transaction.atomic():
                self.one_by_one(lines)
                expected = snapshot()
                raise Rollback
        except Rollback:
            return expected

    def one_by_one(self, lines):
        for line in lines:
            usage.post_usage(
                source=line.source,
                resource=self.gpu if line.resource_id == self.gpu.pk else self.cpu,
                charter=next(c for c in self.charters if c.pk == line.charter_id),
                hour=line.hour,
                unit_hours=line.unit_hours,
            )


class BatchAgainstOneByOneTests(HypothesisTestCase, BatchWorld):
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        awards=st.lists(
            st.tuples(st.integers(0, 2), st.booleans(), st.integers(1, 40).map(lambda n: D(n * 25))),
            max_size=4,
        ),
        rate_changes=st.lists(st.tuples(st.integers(0, 1), st.integers(1, 23), st.integers(0, 12)), max_size=3),
        lines=lines_strategy,
        cuts=st.lists(st.integers(0, 40), max_size=2),
    )
    def test_a_batch_charges_what_posting_each_line_in_turn_charges(self, awards, rate_changes, lines, cuts):
        for charter, bridge, amount in awards:
            request = self.request_credits(
                amount, by=self.admin, charter=self.charters[charter], pool=self.bridge if bridge else self.pool
            )
            with contextlib.suppress(DomainError):  # a co-chair party to the charter: a ballot's work
                self.approve(request)
        for resource, hour, rate in sorted(rate_changes, key=lambda change: change[1]):
            target = (self.gpu, self.cpu)[resource]
            at = self.base + datetime.timedelta(hours=hour)
            if not target.rates.filter(effective_from=at).exists():
                resources.set_rate(self.admin, target, rate=D(rate) / 4, effective_from=at)
        usage_lines = [self.line(*spec) for spec in lines]

        expected = self.charged_one_by_one(usage_lines)

        bounds = sorted({0, *(min(c, len(usage_lines)) for c in cuts), len(usage_lines)})
        for start, end in zip(bounds, bounds[1:], strict=False):
            usage.post_usage_batch(usage_lines[start:end], source="test")
        self.assertEqual(snapshot(), expected)
        self.assertEqual(verification.verify_ledger().problems, [])
        self.assertEqual(replay(), [])

    @pytest.mark.postgres
    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        rate_changes=st.lists(st.tuples(st.integers(0, 1), st.integers(1, 23), st.integers(0, 12)), max_size=3),
        lines=lines_strategy,
        again=st.lists(st.integers(0, 39), max_size=8),
        before=st.integers(0, 10),
        batch_size=st.integers(1, 12),
    )
    def test_a_table_import_charges_what_posting_each_row_in_turn_charges(
        self, rate_changes, lines, again, before, batch_size
    ):
        """The COPY import (table_sql) checks, deduplicates and prices the whole table in one
        statement, then posts it a partition at a time: the same charges as posting each row."""
        self.approve(self.request_credits(D("400"), by=self.admin, charter=self.wind))
        for resource, hour, rate in sorted(rate_changes, key=lambda change: change[1]):
            target = (self.gpu, self.cpu)[resource]
            at = self.base + datetime.timedelta(hours=hour)
            if not target.rates.filter(effective_from=at).exists():
                resources.set_rate(self.admin, target, rate=D(rate) / 4, effective_from=at)
        # A table has one source; each row's amount is its own (its last digit is the row's
        # number), so that which row of a key was charged shows.
        usage_lines = [self.line(c, r, h, amount + D(n) / 10000) for n, (c, r, h, amount, _) in enumerate(lines)]
        # Some hours are reported again further down the table, with other amounts.
        table = usage_lines + [
            dataclasses.replace(usage_lines[n], unit_hours=usage_lines[n].unit_hours + 1)
            for n in again
            if n < len(usage_lines)
        ]
        earlier = usage_lines[: min(before, len(usage_lines))]
        self.one_by_one(earlier)  # some of the table's hours were posted before it came

        expected = self.charged_one_by_one(table)

        names = {self.gpu.pk: self.gpu.name, self.cpu.pk: self.cpu.name}
        rows = "".join(
            f"{line.hour:%Y-%m-%dT%H:%M:%SZ},{names[line.resource_id]},{line.charter_id},{line.unit_hours}\n"
            for line in table
        )
        summary = table_sql.import_csv(
            io.StringIO("hour,resource,charter,unit_hours\n" + rows), source="slurm", batch_size=batch_size
        )
        self.assertEqual(summary.errors, [])
        self.assertEqual(
            summary.posted,
            len({(x.resource_id, x.charter_id, x.hour) for x in table})
            - len({(x.resource_id, x.charter_id, x.hour) for x in earlier}),
        )
        self.assertEqual(snapshot(), expected)
        self.assertEqual(verification.verify_ledger().problems, [])
        self.assertEqual(replay(), [])


class BatchTests(BatchWorld):
    def setUp(self):
        self.approve(self.request_credits(1000))

    def test_rerunning_a_batch_charges_nothing_and_writes_nothing(self):
        lines = [self.line(0, 0, hour, "2") for hour in range(10)]
        first = usage.post_usage_batch(lines, source="sacct")
        self.assertEqual((first.posted, first.debits, first.credits), (10, 10, D("50")))
        events, batches_written = AuditEvent.objects.count(), UsageBatch.objects.count()
        again = usage.post_usage_batch(lines, source="sacct")
        self.assertEqual((again.posted, again.already_posted, again.credits, again.batch), (0, 10, D("0"), None))
        self.assertEqual((AuditEvent.objects.count(), UsageBatch.objects.count()), (events, batches_written))
        self.assertEqual(self.account().balance, D("950"))

    def test_overlapping_batches_charge_each_hour_once(self):
        lines = [self.line(0, 0, hour, "1") for hour in range(12)]
        usage.post_usage_batch(lines[:8], source="sacct")
        overlap = usage.post_usage_batch(lines[4:], source="sacct")
        self.assertEqual((overlap.posted, overlap.already_posted), (4, 4))
        self.assertEqual(UsageRecord.objects.filter(charter=self.charter).count(), 12)
        self.assertEqual(self.account().balance, D("1000") - 12 * D("2.5"))

    def test_the_first_line_of_a_key_in_a_batch_wins(self):
        result = usage.post_usage_batch([self.line(0, 0, 3, "2"), self.line(0, 0, 3, "9")], source="sacct")
        self.assertEqual((result.posted, result.already_posted, result.credits), (1, 1, D("5")))

    def test_rates_changing_inside_the_batch_price_each_hour_at_its_own_rate(self):
        resources.set_rate(self.admin, self.gpu, rate=D("4"), effective_from=self.base + datetime.timedelta(hours=5))
        resources.set_rate(self.admin, self.gpu, rate=D("1"), effective_from=self.base + datetime.timedelta(hours=8))
        usage.post_usage_batch([self.line(0, 0, hour, "1") for hour in range(10)], source="sacct")
        rates = dict(UsageRecord.objects.values_list("hour", "rate_value"))
        hour = self.base.__add__
        self.assertEqual(rates[hour(datetime.timedelta(hours=4))], D("2.5"))
        self.assertEqual(rates[hour(datetime.timedelta(hours=5))], D("4"))
        self.assertEqual(rates[hour(datetime.timedelta(hours=9))], D("1"))
        self.assertEqual(self.account().balance, D("1000") - 5 * D("2.5") - 3 * D("4") - 2 * D("1"))

    def test_a_dry_run_reports_the_charge_and_writes_nothing(self):
        counts = [m.objects.count() for m in (UsageRecord, LedgerTransaction, UsageBatch, AuditEvent, CreditAlert)]
        new = make_charter(self.body, "Never charged", lead=self.orgs.council)
        accounts = CreditAccount.objects.count()
        result = usage.post_usage_batch(
            [
                self.line(0, 0, 1, "400"),
                batches.usage_line(
                    source="slurm", resource_id=self.gpu.pk, charter_id=new.pk, hour=self.base, unit_hours="2"
                ),
            ],
            source="sacct",
            dry_run=True,
        )
        self.assertEqual((result.posted, result.credits), (2, D("1005")))
        self.assertEqual(result.by_charter, {self.charter.pk: D("1000"), new.pk: D("5")})
        self.assertEqual(
            [m.objects.count() for m in (UsageRecord, LedgerTransaction, UsageBatch, AuditEvent, CreditAlert)], counts
        )
        self.assertEqual(CreditAccount.objects.count(), accounts)
        self.assertEqual(self.account().balance, D("1000"))

    def test_alerts_are_raised_once_per_account_per_batch(self):
        result = usage.post_usage_batch([self.line(0, 0, hour, "41") for hour in range(10)], source="sacct")
        self.assertEqual(sorted(a.threshold for a in result.alerts), [75, 90, 100])
        self.assertEqual(AuditEvent.objects.filter(verb="credit_account.alert").count(), 1)
        self.assertTrue(self.account().overdrawn)

    def test_the_batch_is_one_audit_event_committing_to_every_debit(self):
        before = AuditEvent.objects.count()
        result = usage.post_usage_batch([self.line(0, r, hour, "3") for hour in range(7) for r in (0, 1)], source="x")
        self.assertEqual(AuditEvent.objects.count() - before, 1)
        days = LedgerTransaction.objects.filter(usage_records__batch=result.batch).distinct().count()
        self.assertEqual(days, len({timezone.localdate(self.base + datetime.timedelta(hours=h)) for h in range(7)}))
        self.assertEqual(result.batch.leaves, 3)
        for record in UsageRecord.objects.filter(batch=result.batch):
            proof = debits.debit_proof(record)
            self.assertEqual(proof.size, days)  # a leaf per debit, hashing its records
            self.assertTrue(debits.verify_debit_proof(proof))
            self.assertEqual(len(proof.records), UsageRecord.objects.filter(transaction=record.transaction).count())
            self.assertEqual(proof.as_dict()["record"], proof.record)
        self.assertEqual(replay(), [])

    def test_records_that_charged_nothing_are_proven_by_their_charter_and_utc_day(self):
        resources.set_rate(self.admin, self.cpu, rate=D("0"), effective_from=self.base - datetime.timedelta(days=1))
        lines = [self.line(0, 1, hour, "3") for hour in range(30)] + [self.line(0, 0, 2, "0"), self.line(1, 1, 4, "1")]
        result = usage.post_usage_batch(lines, source="x")
        self.assertEqual(result.debits, 0)
        utc_days = {(self.base + datetime.timedelta(hours=h)).astimezone(datetime.UTC).date() for h in range(30)}
        for record in UsageRecord.objects.filter(batch=result.batch):
            proof = debits.debit_proof(record)
            self.assertEqual(proof.size, len(utc_days) + 1)  # the charter's days, then the other charter's
            self.assertTrue(proof.leaf.startswith(f"uncharged|{record.charter_id}|"))
            self.assertTrue(debits.verify_debit_proof(proof))
        self.assertEqual(replay(), [])

    def test_a_proof_holds_only_for_the_records_its_leaf_committed_to(self):
        result = usage.post_usage_batch([self.line(0, 0, hour, "3") for hour in range(5)], source="x")
        records = list(UsageRecord.objects.filter(batch=result.batch).order_by("pk"))
        proof = debits.debit_proof(records[0])
        self.assertTrue(debits.verify_debit_proof(proof))
        forged = proof.record.replace("|3.0000|", "|1.0000|")
        self.assertNotEqual(forged, proof.record)
        for changed in (
            dataclasses.replace(proof, record=forged),
            dataclasses.replace(proof, record=forged, records=(forged, *proof.records[1:])),
            dataclasses.replace(proof, records=proof.records[1:]),
        ):
            self.assertFalse(debits.verify_debit_proof(changed))

    def test_a_batch_committed_under_version_2_still_proves_and_replays(self):
        # Batches written before version 3 keep their leaves (one per record, then one per
        # debit); rewrite a batch as one of them, event included, and read it back as such.
        result = usage.post_usage_batch([self.line(0, r, hour, "3") for hour in range(6) for r in (0, 1)], source="x")
        batch = result.batch
        old_root, size = leaves.stream_root(debits.batch_entries(batch.pk, 2))
        self.assertEqual(size, 12 + LedgerTransaction.objects.filter(usage_records__batch=batch).distinct().count())
        raw_update(UsageBatch._meta.db_table, "leaves = 2, root = %s WHERE id = %s", [old_root, batch.pk])
        event = AuditEvent.objects.get(verb="ledger.usage_batch", object_id=str(batch.pk))
        changes = {**event.changes, "after": {**event.changes["after"], "root": base64.b64encode(old_root).decode()}}
        raw_update(AuditEvent._meta.db_table, "changes = %s WHERE id = %s", [json.dumps(changes), event.pk])
        self.assertEqual(debits.replay_usage_batches(), [])
        for record in UsageRecord.objects.filter(batch=batch):
            proof = debits.debit_proof(record)
            self.assertEqual((proof.size, proof.records), (size, ()))
            self.assertTrue(debits.verify_debit_proof(proof))
        raw_update(UsageRecord._meta.db_table, "unit_hours = 1 WHERE id = %s", [record.pk])
        self.assertIn(f"usage batch {batch.pk}'s 12 record(s)", " ".join(debits.replay_usage_batches()))

    def test_the_database_and_python_write_the_same_leaves(self):
        resources.set_rate(self.admin, self.cpu, rate=D("0"), effective_from=self.base - datetime.timedelta(days=1))
        lines = [self.line(c, r, hour, f"{hour % 4}.125") for c in (0, 1) for r in (0, 1) for hour in range(30)]
        result = usage.post_usage_batch(lines, source="x")
        records = debits._records_v3(result.batch)
        entries = debits._debit_entries({r[1] for r in records if r[1] is not None})
        in_python = list(leaves.python_entries_v3(records, entries))
        self.assertEqual(list(debits.batch_entries(result.batch.pk, 3)), in_python)
        self.assertEqual(leaves.stream_root(in_python)[0], bytes(result.batch.root))

    def test_a_debit_changed_behind_the_log_is_found(self):
        result = usage.post_usage_batch([self.line(0, 0, hour, "3") for hour in range(4)], source="x")
        record = UsageRecord.objects.filter(batch=result.batch).first()
        raw_update(UsageRecord._meta.db_table, "unit_hours = 1 WHERE id = %s", [record.pk])
        self.assertIn(f"usage batch {result.batch.pk}'s 4 record(s) or their debits differ", " ".join(replay()))

    def test_a_batch_names_the_run_of_ids_its_records_hold(self):
        first = usage.post_usage_batch([self.line(0, 0, hour, "3") for hour in range(4)], source="x").batch
        usage.post_usage(source="alone", resource=self.gpu, charter=self.charter, hour=self.base, unit_hours=1)
        second = usage.post_usage_batch([self.line(1, 1, hour, "2") for hour in range(3)], source="x").batch
        for batch, count in ((first, 4), (second, 3)):
            ids = list(UsageRecord.objects.filter(batch=batch).order_by("pk").values_list("pk", flat=True))
            self.assertEqual(ids, list(batch.record_ids()))
            self.assertEqual(len(ids), count)
            self.assertEqual(list(batch.usage_records().order_by("pk").values_list("pk", flat=True)), ids)
        self.assertEqual(verification.verify_ledger().problems, [])

    def test_a_record_moved_out_of_its_batchs_run_is_found(self):
        batch = usage.post_usage_batch([self.line(0, 0, hour, "3") for hour in range(4)], source="x").batch
        alone = usage.post_usage(source="alone", resource=self.gpu, charter=self.charter, hour=self.base, unit_hours=1)
        record = UsageRecord.objects.get(transaction=alone)
        raw_update(UsageRecord._meta.db_table, "batch_id = %s WHERE id = %s", [batch.pk, record.pk])
        self.assertIn(
            f"Usage record #{record.pk} lies outside the ids its batch #{batch.pk} names.",
            verification.verify_ledger().problems,
        )

    def test_an_unknown_charter_refuses_the_whole_batch(self):
        bad = batches.usage_line(source="s", resource_id=self.gpu.pk, charter_id=999999, hour=self.base, unit_hours=1)
        with self.assertRaisesMessage(ValidationError, "No charter with id 999999"):
            usage.post_usage_batch([self.line(0, 0, 1, "1"), bad], source="sacct")
        self.assertFalse(UsageRecord.objects.exists())

    def test_a_line_must_be_believable(self):
        for hour, amount in ((self.base, "-1"), (self.base, "nan"), (self.base.replace(tzinfo=None), "1")):
            with self.assertRaises(ValidationError):
                batches.usage_line(source="s", resource_id=1, charter_id=1, hour=hour, unit_hours=amount)


@pytest.mark.postgres
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class ConcurrentImportTests(TransactionTestCase):
    def test_concurrent_overlapping_imports_charge_each_key_once(self):
        from tests.base import make_body

        body = make_body()
        world = make_world(body)
        base = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(days=3)

        def lines(start, end):
            return [
                batches.usage_line(
                    source="slurm",
                    resource_id=world["gpu"].pk,
                    charter_id=world["charter"].pk,
                    hour=base + datetime.timedelta(hours=h),
                    unit_hours="2",
                )
                for h in range(start, end)
            ]

        outcomes = together(
            lambda: usage.post_usage_batch(lines(0, 40), source="a"),
            lambda: usage.post_usage_batch(lines(20, 60), source="b"),
            lambda: usage.post_usage_batch(lines(10, 50), source="c"),
        )
        self.assertFalse([o for o in outcomes if isinstance(o, Exception)], outcomes)
        self.assertEqual(sum(o.posted for o in outcomes), 60)
        self.assertEqual(UsageRecord.objects.count(), 60)
        account = pools.open_account(world["charter"])
        self.assertEqual(account.balance, -60 * D("5"))
        self.assertEqual(verification.verify_ledger().problems, [])
        self.assertEqual(replay(), [])


class DailySummaryTests(BatchWorld):
    def test_the_accounts_figures_come_from_daily_summaries_kept_with_every_posting(self):
        self.approve(self.request_credits(1000))
        usage.post_usage_batch([self.line(0, 0, hour, "2") for hour in range(30)], source="sacct")
        self.one_by_one([self.line(0, 1, hour, "10") for hour in range(3)])
        account = self.account()
        with self.assertNumQueries(1):
            summary = selectors.account_summary(account)
        self.assertEqual((summary.allocated, summary.consumed), (D(1000), 30 * D(5) + 3 * D("0.5")))
        self.assertEqual(summary.balance, self.account().balance)
        self.assertEqual(verification.verify_ledger().problems, [])

    def test_a_summary_that_disagrees_with_the_entries_is_reported(self):
        self.approve(self.request_credits(1000))
        AccountDay.objects.filter(account=self.account()).update(amount=D(5))
        self.assertIn("summary of", " ".join(verification.verify_ledger().problems))
