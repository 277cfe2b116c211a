"""Accounting imports: Slurm's sacct and sreport output, as their manual pages document it,
mapped onto charters and resources by the administrators' mapping, charged once, and a dry run
that says what would be charged and writes nothing."""

import datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import SimpleTestCase

from compute.choices import MappingKind
from compute.collectors import slurm
from compute.models import AccountingMapping, CreditAccount, LedgerTransaction, UsageBatch, UsageImport, UsageRecord
from compute.services.credits import accounting
from governance.models import AuditEvent
from tests.compute.credits import CreditsTestCase, make_charter

D = Decimal
FIXTURES = Path(__file__).parent / "fixtures"
SACCT = FIXTURES / "sacct_parsable2.txt"
SREPORT = FIXTURES / "sreport_account_utilization.txt"
UTC = ZoneInfo("UTC")
HOUR = datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC)


class SlurmParserTests(SimpleTestCase):
    def test_sacct_jobs_are_read_and_steps_running_and_pending_jobs_are_skipped(self):
        read = list(slurm.read_sacct(SACCT.read_text().splitlines(), UTC))
        jobs = [item for item in read if isinstance(item, slurm.SacctJob)]
        skipped = sorted(item.reason for item in read if isinstance(item, slurm.Skipped))
        self.assertEqual([job.job_id for job in jobs], ["4100", "4101_3", "4102", "4105"])
        self.assertEqual(skipped, ["job step", "job step", "never started", "still running"])
        first = jobs[0]
        self.assertEqual((first.account, first.partition, first.cluster), ("flood", "gpu", "aurora"))
        self.assertEqual((first.start, first.end), (HOUR, HOUR + datetime.timedelta(hours=2, minutes=30)))
        self.assertEqual(slurm.gpus(first.tres), 4)

    def test_typed_gpus_count_when_the_total_is_absent(self):
        self.assertEqual(slurm.gpus(slurm.parse_tres("cpu=8,gres/gpu:h100=1,gres/gpu:a100=2,mem=64G")), 3)
        self.assertEqual(slurm.gpus(slurm.parse_tres("billing=8,cpu=8,gres/gpu:a100=2,gres/gpu=2")), 2)
        self.assertEqual(slurm.parse_tres("cpu=8,mem=64G,node=1"), {"cpu": 8, "node": 1})

    def test_slurm_times_are_read_in_the_controllers_time_zone(self):
        read = slurm.read_sacct(SACCT.read_text().splitlines(), ZoneInfo("Europe/Berlin"))
        first = next(item for item in read if isinstance(item, slurm.SacctJob))
        self.assertEqual(first.start, HOUR - datetime.timedelta(hours=1))

    def test_a_job_is_split_at_the_top_of_each_hour(self):
        split = list(slurm.hours_of(HOUR + datetime.timedelta(minutes=45), HOUR + datetime.timedelta(hours=2)))
        self.assertEqual(
            split,
            [(HOUR, D("0.25")), (HOUR + datetime.timedelta(hours=1), D(1))],
        )

    def test_a_sacct_export_without_the_needed_fields_is_refused_by_name(self):
        with self.assertRaisesMessage(slurm.SlurmFormatError, "no partition, alloctres column"):
            list(slurm.read_sacct(["JobID|JobName|Account|Start|End", "1|x|a|None|None"], UTC))

    def test_a_malformed_sacct_line_is_named(self):
        lines = [SACCT.read_text().splitlines()[0], "7|x|flood|gpu|aurora|sam|COMPLETED|yesterday|today|0|cpu=1"]
        with self.assertRaisesMessage(slurm.SlurmFormatError, "line 2: 'yesterday' is not a Slurm time"):
            list(slurm.read_sacct(lines, UTC))

    def test_sreport_gives_its_period_unit_and_rows(self):
        report = slurm.read_sreport(SREPORT.read_text().splitlines(), UTC)
        self.assertEqual((report.start, report.end), (HOUR.replace(hour=0), HOUR.replace(hour=0, day=2)))
        self.assertEqual(report.unit_seconds, 60)
        self.assertEqual(
            [(r["account"], r["login"], r["used"]) for r in report.rows][:3],
            [("root", "", 21600), ("flood", "", 14400), ("flood", "sam", 14400)],
        )

    def test_sreport_in_hours_or_without_a_banner_is_read_too(self):
        text = "Usage reported in TRES Hours\nCluster|Account|Login|Proper Name|TRES Name|Used\n"
        text += "aurora|flood|||gres/gpu|5\n"
        report = slurm.read_sreport(text.splitlines(), UTC)
        self.assertEqual((report.start, report.unit_seconds, report.rows[0]["used"]), (None, 3600, 5))

    def test_sreport_percentages_are_refused(self):
        with self.assertRaisesMessage(slurm.SlurmFormatError, "Percentages are not usage"):
            slurm.read_sreport(["Usage reported in Percentage of Total", "Cluster|Account|Login|Used"], UTC)


class AccountingImportTests(CreditsTestCase):
    def setUp(self):
        self.approve(self.request_credits(1000))
        accounting.set_mapping(self.admin, kind=MappingKind.ACCOUNT, name="flood", charter=self.charter)
        accounting.set_mapping(self.admin, kind=MappingKind.PARTITION, name="gpu", resource=self.gpu)
        accounting.set_mapping(self.admin, kind=MappingKind.PARTITION, name="cpu", resource=self.cpu)
        accounting.set_mapping(self.admin, kind=MappingKind.CLUSTER, name="aurora", resource=self.gpu)

    def run_import(self, path, *args, **options):
        out, err = StringIO(), StringIO()
        call_command("import_usage", str(path), *args, stdout=out, stderr=err, **options)
        return out.getvalue(), err.getvalue()

    def test_sacct_jobs_are_charged_per_hour_on_the_mapped_charter_and_resource(self):
        out, err = self.run_import(SACCT, source="slurm-sacct")
        gpu_hours = dict(UsageRecord.objects.filter(resource=self.gpu).values_list("hour", "unit_hours"))
        later = HOUR + datetime.timedelta(hours=1)
        self.assertEqual(gpu_hours, {HOUR: D(4), later: D("4.5"), later + datetime.timedelta(hours=1): D("2.5")})
        self.assertEqual(UsageRecord.objects.get(resource=self.cpu).unit_hours, D(32))
        self.assertEqual(self.account().balance, D(1000) - D("27.5") - D("1.6"))
        self.assertIn("Read 8 row(s): 4 usage line(s). Posted 4 row(s)", out)
        self.assertIn("Charged 29.1 credits for 4 hour(s) of usage in 1 debit(s), 1 batch(es)", out)
        self.assertIn("skipped 2: job step", out)
        self.assertIn("skipped 1: account 'physics' not mapped", out)
        self.assertIn("Flood forecasting", out)
        self.assertIn("4/4 lines (100 %)", err)

    def test_reimporting_the_same_export_charges_nothing(self):
        self.run_import(SACCT, source="slurm-sacct")
        out, _ = self.run_import(SACCT, source="slurm-sacct", no_progress=True)
        self.assertIn("Posted 0 row(s); 4 were already posted", out)
        self.assertEqual(UsageBatch.objects.count(), 1)

    def test_a_dry_run_says_what_would_be_charged_and_writes_nothing(self):
        counts = [m.objects.count() for m in (UsageRecord, LedgerTransaction, UsageBatch, AuditEvent)]
        out, _ = self.run_import(SACCT, source="slurm-sacct", dry_run=True, no_progress=True)
        self.assertIn("Would charge 29.1 credits for 4 hour(s) of usage in 1 debit(s).", out)
        self.assertIn("Dry run: nothing was written.", out)
        self.assertEqual([m.objects.count() for m in (UsageRecord, LedgerTransaction, UsageBatch, AuditEvent)], counts)
        self.assertEqual(self.account().balance, D(1000))

    def test_a_dry_run_across_several_batches_sees_the_earlier_ones(self):
        out, _ = self.run_import(SACCT, source="slurm-sacct", dry_run=True, batch_size=1, no_progress=True)
        self.assertIn("Would charge 29.1 credits for 4 hour(s) of usage in 4 debit(s).", out)  # a debit a batch
        self.assertFalse(UsageRecord.objects.exists())

    def test_sreport_totals_are_spread_over_the_reports_hours(self):
        out, _ = self.run_import(SREPORT, source="slurm-sreport", no_progress=True)
        hours = UsageRecord.objects.filter(charter=self.charter)
        self.assertEqual(hours.count(), 24)
        self.assertEqual({r.unit_hours for r in hours}, {D(10)})
        self.assertEqual(self.account().balance, D(1000) - D(600))
        self.assertIn("skipped 3: user or root row", out)
        self.assertIn("skipped 1: account 'physics' not mapped", out)

    def test_a_malformed_export_is_refused_and_nothing_is_written(self):
        with TemporaryDirectory() as folder:
            path = Path(folder) / "sacct.txt"
            path.write_text(
                SACCT.read_text() + "4200|x|flood|gpu|aurora|sam|COMPLETED|2026-03-02T10:00:00|soon|0|cpu=1\n"
            )
            with self.assertRaisesMessage(CommandError, "line 10: 'soon' is not a Slurm time"):
                self.run_import(path, source="slurm-sacct", format="sacct")
        self.assertFalse(UsageRecord.objects.exists())

    def test_an_unknown_time_zone_is_a_command_error(self):
        with self.assertRaisesMessage(CommandError, "'Mars/Olympus' is not a time zone"):
            self.run_import(SACCT, source="slurm-sacct", timezone="Mars/Olympus")

    def test_a_table_with_a_bad_row_posts_nothing_unless_told_to_skip_it(self):
        hour = "2026-03-01T10:00:00Z"
        csv = f"hour,resource,charter,unit_hours\n{hour},Aurora GPU cluster,{self.charter.pk},2\n"
        csv += f"{hour},Nowhere cluster,{self.charter.pk},2\n{hour},Aurora GPU cluster,{self.charter.pk},-1\n"
        with TemporaryDirectory() as folder:
            path = Path(folder) / "usage.csv"
            path.write_text(csv)
            with self.assertRaisesMessage(CommandError, "2 row(s) could not be imported; nothing was posted"):
                self.run_import(path, source="table")
            self.assertFalse(UsageRecord.objects.exists())
            with self.assertRaisesMessage(CommandError, "the others were posted"):
                self.run_import(path, source="table", skip_bad_rows=True)
        self.assertEqual(self.account().balance, D(995))

    def test_an_account_is_opened_only_for_a_charter_the_table_charges(self):
        charged = make_charter(self.body, "Tidal survey", lead=self.orgs.council)
        refused = make_charter(self.body, "Glacier survey", lead=self.orgs.council)
        csv = "hour,resource,charter,unit_hours\n"
        csv += f"2026-03-01T10:00:00Z,Nowhere cluster,{refused.pk},2\n"  # its only row is bad
        csv += "".join(f"2026-03-01T{h:02}:00:00Z,Aurora GPU cluster,{charged.pk},2\n" for h in range(11, 16))
        with TemporaryDirectory() as folder:
            path = Path(folder) / "usage.csv"
            path.write_text(csv)
            with self.assertRaisesMessage(CommandError, "the others were posted"):
                # Batches of two: the charter's account is opened by the first, used by the rest.
                self.run_import(path, source="table", skip_bad_rows=True, batch_size=2, no_progress=True)
        self.assertFalse(CreditAccount.objects.filter(charter=refused).exists())
        account = CreditAccount.objects.get(charter=charged)
        records = UsageRecord.objects.filter(charter=charged)
        self.assertEqual(records.count(), 5)
        self.assertEqual(account.balance, -sum(records.values_list("credits", flat=True)))
        self.assertLess(account.balance, 0)  # usage is never refused: no allocation, an overdraft

    def test_the_same_file_again_answers_at_once_and_charges_nothing(self):
        csv = "hour,resource,charter,unit_hours\n"
        csv += "".join(f"2026-03-01T{h:02}:00:00Z,Aurora GPU cluster,{self.charter.pk},2\n" for h in range(4))
        with TemporaryDirectory() as folder:
            path = Path(folder) / "usage.csv"
            path.write_text(csv)
            out, _ = self.run_import(path, source="table", no_progress=True)
            self.assertIn("Posted 4 row(s)", out)
            balance, batches_written = self.account().balance, UsageBatch.objects.count()
            out, _ = self.run_import(path, source="table", no_progress=True)
            self.assertIn("was imported in full from table", out)
            self.assertIn("Posted 0 row(s) now; nothing charged", out)
            out, _ = self.run_import(path, source="table", no_progress=True, recheck=True)
            self.assertIn("Posted 0 row(s); 4 were already posted", out)
            # One byte more is another file: read, and its one new hour charged.
            path.write_text(csv + f"2026-03-01T04:00:00Z,Aurora GPU cluster,{self.charter.pk},2\n")
            out, _ = self.run_import(path, source="table", no_progress=True)
            self.assertIn("Posted 1 row(s); 4 were already posted", out)
        self.assertEqual(self.account().balance, balance - D(5))
        self.assertEqual(UsageBatch.objects.count(), batches_written + 1)

    def test_a_file_with_bad_rows_skipped_is_read_again(self):
        csv = f"hour,resource,charter,unit_hours\n2026-03-01T10:00:00Z,Aurora GPU cluster,{self.charter.pk},2\n"
        csv += f"2026-03-01T11:00:00Z,Nowhere cluster,{self.charter.pk},2\n"
        with TemporaryDirectory() as folder:
            path = Path(folder) / "usage.csv"
            path.write_text(csv)
            for _ in range(2):
                with self.assertRaisesMessage(CommandError, "the others were posted"):
                    self.run_import(path, source="table", skip_bad_rows=True, no_progress=True)
        self.assertFalse(UsageImport.objects.exists())

    def test_words_for_numbers_or_times_are_found_row_by_row(self):
        # "now" passes a database's reading of a time, and "lots" is no number: both refused by row,
        # whether the numbers of the table are read as numbers first or as text. A letter where a
        # time's digit goes has a time's shape (which skips the pattern) but is still found.
        hour, charter = "2026-03-01T10:00:00Z", self.charter.pk
        for bad_number in ("lots", "3"):
            csv = f"hour,resource,charter,unit_hours\n{hour},Aurora GPU cluster,{charter},2\n"
            csv += f"now,Aurora GPU cluster,{charter},2\n{hour},Baltic CPU pool,{charter},{bad_number}\n"
            csv += f"2026-03-01T1O:00:00Z,Aurora GPU cluster,{charter},2\n"
            with TemporaryDirectory() as folder:
                path = Path(folder) / "usage.csv"
                path.write_text(csv)
                expected = 3 if bad_number == "lots" else 2
                with self.assertRaisesMessage(CommandError, f"{expected} row(s) could not be imported"):
                    self.run_import(path, source="table")
            self.assertFalse(UsageRecord.objects.exists())

    def test_only_administrators_map_accounting_names_and_each_change_is_audited(self):
        with self.assertRaises(PermissionDenied):
            accounting.set_mapping(self.public_chair, kind=MappingKind.ACCOUNT, name="flood", charter=self.restricted)
        accounting.set_mapping(self.admin, kind=MappingKind.ACCOUNT, name="flood", charter=self.restricted)
        mapping = AccountingMapping.objects.get(name="flood")
        self.assertEqual(mapping.charter, self.restricted)
        event = AuditEvent.objects.filter(verb="accounting_mapping.set", object_id=str(mapping.pk)).last()
        self.assertEqual(event.changes["before"], {"charter": self.charter.pk, "resource": None})

    def test_an_account_maps_onto_a_charter_and_a_partition_onto_a_resource(self):
        from django.core.exceptions import ValidationError

        with self.assertRaisesMessage(ValidationError, "An account maps to a charter"):
            accounting.set_mapping(self.admin, kind=MappingKind.ACCOUNT, name="x", resource=self.gpu)

    def test_a_table_dry_run_says_what_would_be_charged_and_writes_nothing(self):
        csv = "unit_hours,charter,resource,hour,note\n"  # any column order, extra columns ignored
        csv += "".join(f"2,{self.charter.pk},aurora gpu cluster,2026-03-01T{h:02}:30:00+00:00,x\n" for h in range(5))
        csv += f'1.5,"{self.charter.title}",Baltic CPU pool,2026-03-01 10:00,""\n'
        counts = [m.objects.count() for m in (UsageRecord, LedgerTransaction, UsageBatch, AuditEvent)]
        with TemporaryDirectory() as folder:
            path = Path(folder) / "usage.csv"
            path.write_text(csv)
            out, _ = self.run_import(path, source="table", dry_run=True, batch_size=2, no_progress=True)
            self.assertIn("Would charge 25.075 credits for 6 hour(s) of usage in 3 debit(s).", out)
            self.assertEqual(
                [m.objects.count() for m in (UsageRecord, LedgerTransaction, UsageBatch, AuditEvent)], counts
            )
            out, _ = self.run_import(path, source="table", batch_size=2, no_progress=True)
        self.assertIn("Charged 25.075 credits for 6 hour(s) of usage in 3 debit(s), 3 batch(es)", out)
        self.assertEqual(UsageRecord.objects.get(resource=self.cpu).hour, HOUR)

    def test_a_table_cut_off_in_a_row_is_a_command_error_and_nothing_is_written(self):
        csv = f"hour,resource,charter,unit_hours\n2026-03-01T10:00:00Z,Aurora GPU cluster,{self.charter.pk},2\n2026-"
        with TemporaryDirectory() as folder:
            path = Path(folder) / "usage.csv"
            path.write_text(csv)
            with self.assertRaises(CommandError) as raised:
                self.run_import(path, source="table", no_progress=True)
        # PostgreSQL's COPY stops at the row; the Python reader names it among the bad rows.
        self.assertIn("row 2: " if connection.vendor == "postgresql" else "1 row(s) could not", str(raised.exception))
        self.assertFalse(UsageRecord.objects.exists())
        self.assertEqual(self.account().balance, D(1000))

    def test_an_impossible_hour_in_a_table_is_a_command_error_and_nothing_is_written(self):
        csv = f"hour,resource,charter,unit_hours\n2026-03-01T10:00:00Z,Aurora GPU cluster,{self.charter.pk},2\n"
        csv += f"2026-02-30T10:00:00Z,Aurora GPU cluster,{self.charter.pk},2\n"
        with TemporaryDirectory() as folder:
            path = Path(folder) / "usage.csv"
            path.write_text(csv)
            with self.assertRaises(CommandError):
                self.run_import(path, source="table", no_progress=True)
        self.assertFalse(UsageRecord.objects.exists())
        self.assertEqual(self.account().balance, D(1000))
