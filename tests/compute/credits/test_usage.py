"""Usage metering: hourly usage becomes debits at the rate in effect, exactly once per
(source, resource, charter, hour); usage is never refused, and an overdraft is flagged."""

import datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from tempfile import TemporaryDirectory

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from compute.models import LedgerTransaction, UsageRecord
from compute.services.credits import pools, resources, usage, verification
from tests.compute.credits import CreditsTestCase

D = Decimal


class UsageTests(CreditsTestCase):
    def setUp(self):
        self.hour = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=3)
        self.approve(self.request_credits(1000))

    def use(self, unit_hours, *, hour=None, source="prometheus", resource=None):
        return usage.post_usage(
            source=source,
            resource=resource or self.gpu,
            charter=self.charter,
            hour=hour or self.hour,
            unit_hours=D(str(unit_hours)),
        )

    def test_usage_is_charged_at_the_resource_rate_and_records_it(self):
        debit = self.use("4")
        self.assertEqual(self.account().balance, D("990"))  # 4 GPU-hours at 2.5
        record = debit.usage_records.get()
        self.assertEqual((record.rate_value, record.credits), (D("2.5"), D("10")))
        self.assertEqual(record.rate.rate, D("2.5"))

    def test_posting_the_same_usage_twice_charges_once(self):
        self.assertIsNotNone(self.use("4"))
        self.assertIsNone(self.use("4"))
        self.assertIsNone(self.use("7"))  # a changed figure for the same key is not a second charge
        self.assertEqual(self.account().balance, D("990"))
        self.assertEqual(UsageRecord.objects.count(), 1)

    def test_another_source_or_hour_is_another_charge(self):
        self.use("4")
        self.use("4", source="slurm")
        self.use("4", hour=self.hour - datetime.timedelta(hours=1))
        self.assertEqual(self.account().balance, D("970"))

    def test_minutes_within_the_hour_are_the_same_hour(self):
        self.use("4", hour=self.hour + datetime.timedelta(minutes=20))
        self.assertIsNone(self.use("4", hour=self.hour + datetime.timedelta(minutes=40)))

    def test_a_rate_change_never_reprices_past_usage(self):
        earlier = self.use("4")
        resources.set_rate(self.admin, self.gpu, rate=D("3"), effective_from=self.hour + datetime.timedelta(hours=1))
        later = self.use("4", hour=self.hour + datetime.timedelta(hours=2))
        # Usage of an earlier hour posted late still uses the rate of its hour.
        late = self.use("4", hour=self.hour - datetime.timedelta(hours=5))
        self.assertEqual(earlier.usage_records.get().rate_value, D("2.5"))
        self.assertEqual(later.usage_records.get().rate_value, D("3"))
        self.assertEqual(late.usage_records.get().rate_value, D("2.5"))
        self.assertEqual(self.account().balance, D("1000") - D("10") - D("12") - D("10"))

    def test_a_new_rate_cannot_take_effect_over_hours_already_charged(self):
        self.use("4")
        with self.assertRaisesMessage(ValidationError, "already charged up to"):
            resources.set_rate(self.admin, self.gpu, rate=D("3"), effective_from=self.hour)

    def test_usage_is_never_refused_and_an_overdraft_is_flagged(self):
        debit = self.use("1000")  # 2,500 credits against 1,000
        self.assertIsNotNone(debit)
        account = self.account()
        self.assertEqual(account.balance, D("-1500"))
        self.assertTrue(account.overdrawn)
        self.assertEqual(sum(e.amount for e in debit.entries.all()), 0)

    def test_usage_of_a_charter_without_credits_opens_its_account_overdrawn(self):
        usage.post_usage(source="x", resource=self.gpu, charter=self.restricted, hour=self.hour, unit_hours=D("2"))
        account = pools.open_account(self.restricted)
        self.assertEqual(account.balance, D("-5"))
        self.assertTrue(account.overdrawn)
        self.assertTrue(verification.verify_ledger().ok)

    def test_zero_usage_is_recorded_without_a_transaction(self):
        self.assertIsNone(self.use("0"))
        self.assertEqual(UsageRecord.objects.get().credits, 0)
        self.assertFalse(LedgerTransaction.objects.filter(kind="usage").exists())

    def test_naive_hours_and_negative_usage_are_refused(self):
        with self.assertRaises(ValidationError):
            self.use("1", hour=datetime.datetime(2026, 1, 1, 10))  # noqa: DTZ001 - the point of the test
        with self.assertRaises(ValidationError):
            self.use("-1")

    def test_a_usage_export_is_imported_once(self):
        hour = self.hour.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:00:00Z")
        csv = f"hour,resource,charter,unit_hours\n{hour},Aurora GPU cluster,{self.charter.pk},2\n"
        with TemporaryDirectory() as folder:
            path = Path(folder) / "sreport.csv"
            path.write_text(csv + f"{hour},Nowhere cluster,{self.charter.pk},2\n")
            out, err = StringIO(), StringIO()
            with self.assertRaisesMessage(Exception, "1 row(s) could not be imported; nothing was posted"):
                call_command("import_usage", str(path), source="slurm", stdout=out, stderr=err)
            self.assertIn("row 2: unknown resource 'Nowhere cluster'", err.getvalue())
            path.write_text(csv)
            runs = (
                ({}, "Posted 1 row(s); 0 were already posted"),
                ({}, "Posted 0 row(s) now; nothing charged"),  # the same bytes: known at once
                ({"recheck": True}, "Posted 0 row(s); 1 were already posted"),  # read again: each key found
            )
            for options, expected in runs:
                out = StringIO()
                call_command("import_usage", str(path), source="slurm", stdout=out, stderr=StringIO(), **options)
                self.assertIn(expected, out.getvalue())
        self.assertEqual(self.account().balance, D("995"))
