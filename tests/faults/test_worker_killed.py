"""A Celery worker killed with SIGKILL in the middle of a collection pass: the task comes back
to the next worker, which completes the pass, and nothing is stored, attributed or charged
twice, nor left out.

Everything is real: a private Redis, two worker processes one after the other, PostgreSQL,
and a Prometheus holding four hours of DCGM samples (backfilled with promtool). The worker is
stopped at a known point without any hook in the code: the test holds a row lock on one
charter's credit account, so the pass commits its samples, then waits on the lock with the
pass's usage in one uncommitted batch; that is when it is killed.
"""

from __future__ import annotations

import datetime
import json
import signal
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import redis
from django.db import connection
from django.db.models import Count, Sum
from django.test import TransactionTestCase
from django.utils import timezone

from charters.models import Charter
from compute.choices import TransactionKind
from compute.models import (
    CreditAccount,
    DailyRollup,
    HourlyRollup,
    LedgerTransaction,
    MetricSource,
    Sample,
    UsageAttribution,
    UsageRecord,
)
from compute.services.credits import pools, resources, verification
from compute.services.metrics import attribution, sources
from compute.tasks import collect_source
from governance.celery import app
from governance.choices import Sector
from governance.models import Committee, Organization, User
from tests.compute.metrics.promserver import PrometheusServer, create_blocks, missing_binaries
from tests.conftest import missing
from tests.processes import Process, celery, free_port, port_open, portal_env, redis_server, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

RATE = Decimal("2.5")  # credits per GPU-hour
HOURS = 4
STEP = 60
# GPU → the project label that holds it, and for how many of the last hours ("" = idle).
GPUS = {"0": ("alpha", HOURS), "1": ("alpha", HOURS), "2": ("beta", HOURS), "3": ("gamma", 1), "4": ("", HOURS)}
VISIBILITY_TIMEOUT = 2  # seconds before an unacknowledged task goes back to the queue


def prometheus_range(
    server: PrometheusServer, query: str, start: int, end: int
) -> set[tuple[datetime.datetime, float]]:
    """What Prometheus itself answers for a query, read without the portal's client."""
    params = urllib.parse.urlencode({"query": query, "start": start, "end": end, "step": STEP})
    with urllib.request.urlopen(f"{server.url}/api/v1/query_range?{params}", timeout=10) as response:  # noqa: S310
        result = json.loads(response.read())["data"]["result"]
    return {
        (datetime.datetime.fromtimestamp(t, tz=datetime.UTC), float(v))
        for series in result
        for t, v in series["values"]
    }


@pytest.mark.usefixtures("real_celery")
class WorkerKilledMidCollectionTests(TransactionTestCase):
    def setUp(self):
        reason = missing_binaries()
        if reason:
            missing(reason)
        self.stack: list = []
        # The hours the pass attributes: those complete (with the service's lag) when it runs.
        # Prometheus answers the five minutes after the last sample with it (its look-back), so
        # an hour turning mid-test would add a sliver of usage: let it turn first.
        turns_in = 3600 - (timezone.now() - attribution.ATTRIBUTION_LAG).timestamp() % 3600
        if turns_in < 60:
            time.sleep(turns_in + 1)
        self.end = (timezone.now() - attribution.ATTRIBUTION_LAG).replace(minute=0, second=0, microsecond=0)
        self.hours = [self.end - datetime.timedelta(hours=h) for h in range(HOURS, 0, -1)]
        self.prometheus = self.start_prometheus()

        admin = User.objects.create_superuser("admin", "admin@example.org", "irrelevant-here")  # noqa: S106
        organization = Organization.objects.create(name="Ministry", sector=Sector.PUBLIC)
        committee = Committee.objects.create(name="TGB")
        self.resource = resources.create_resource(
            admin, name="Sovereign GPU cluster", kind="gpu_cluster", capacity=8, jurisdiction="EU", rate=RATE
        )
        # Created in label order, so gamma's rows come last in each hour's postings.
        self.charters = {
            label: Charter.objects.create(
                committee=committee,
                title=label.capitalize(),
                summary="-",
                lead_organization=organization,
                ip_framework="joint_pool",
                created_by=admin,
            )
            for label in ("alpha", "beta", "gamma")
        }
        self.accounts = {label: pools.open_account(charter) for label, charter in self.charters.items()}
        self.source = sources.create_source(
            admin,
            name="DCGM",
            kind="prometheus",
            url=self.prometheus.url,
            resource=self.resource,
            step_seconds=STEP,
            charter_label="project",
            charter_map={label: charter.pk for label, charter in self.charters.items()},
        )

        redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self.redis = redis_server(redis_port).start()
        self.stack.append(self.redis.stop)
        wait_for(lambda: port_open(redis_port), 30, "the private Redis")
        self.env = portal_env(
            connection.settings_dict["NAME"],
            self.redis_url,
            CONN_MAX_AGE="0",
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            TGB_VAR_DIR=tempfile.mkdtemp(prefix="tgb-var-"),
            PYTHONUNBUFFERED="1",
        )
        self.workers: list[Process] = []

    def tearDown(self):
        for worker in self.workers:
            worker.stop(signal.SIGKILL)
        for stop in reversed(self.stack):
            stop()

    def start_prometheus(self) -> PrometheusServer:
        start = int(self.hours[0].timestamp())
        end = int(self.end.timestamp())
        lines = ["# TYPE DCGM_FI_DEV_GPU_UTIL gauge"]
        for gpu, (project, hours) in GPUS.items():
            labels = f'gpu="{gpu}",Hostname="node-1"' + (f',project="{project}"' if project else "")
            since = end - hours * 3600
            lines.extend(f"DCGM_FI_DEV_GPU_UTIL{{{labels}}} {40 + int(gpu)} {t}" for t in range(since, end, 15))
        lines.append("# EOF")
        home = Path(tempfile.mkdtemp(prefix="tgb-dcgm-"))
        (home / "dcgm.om").write_text("\n".join(lines) + "\n")
        server = PrometheusServer(scrape_interval="15s", data_dir=str(home / "data"))
        create_blocks(home / "dcgm.om", server.data_dir)
        server.start()
        self.stack.append(server.cleanup)
        server.wait_for("count_over_time(DCGM_FI_DEV_GPU_UTIL[6h])", timeout=60)
        self.window = (start, end)
        return server

    def start_worker(self, name: str) -> Process:
        worker = Process(
            name, celery("worker", "--pool=solo", "--without-gossip", "--without-mingle", "--loglevel=INFO"), self.env
        ).start()
        self.workers.append(worker)
        self.wait(lambda: " ready." in worker.output(), f"{name} to start")
        return worker

    def wait(self, condition, what: str, timeout: float = 60) -> None:
        try:
            wait_for(condition, timeout, what, interval=0.1)
        except AssertionError as error:
            logs = "\n".join(f"--- {w.name}\n{w.output()}" for w in self.workers)
            raise AssertionError(f"{error}\n{logs}") from None

    def lock_account(self, label: str) -> psycopg.Connection:
        """Hold the row lock every posting to this charter's account must take first."""
        db = connection.settings_dict
        locker = psycopg.connect(
            dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None, host=db["HOST"], port=db["PORT"]
        )
        locker.execute(
            f"SELECT id FROM {CreditAccount._meta.db_table} WHERE id = %s FOR UPDATE",  # noqa: S608 - a model's table
            [self.accounts[label].pk],
        )
        return locker

    def backends_waiting_on_a_lock(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            return cursor.fetchone()[0]

    def expected_usage(self) -> dict[tuple[int, datetime.datetime], Decimal]:
        """GPU-hours per charter and hour, from the data written into Prometheus above."""
        usage: Counter = Counter()
        for project, hours in GPUS.values():
            for hour in self.hours[HOURS - hours :]:
                if project:
                    usage[(self.charters[project].pk, hour)] += 1
        return {key: Decimal(gpus).quantize(Decimal("0.0001")) for key, gpus in usage.items()}

    def test_the_pass_a_killed_worker_left_is_completed_once_by_the_next_worker(self):
        expected = self.expected_usage()

        first = self.start_worker("worker-1")
        locker = self.lock_account("gamma")
        try:
            with app.connection_for_write(self.redis_url) as broker:
                collect_source.apply_async([self.source.pk], connection=broker)
            # The pass stored its samples and now waits for gamma's account with the pass's usage
            # in one batch: one transaction, so none of it is visible yet.
            self.wait(lambda: self.backends_waiting_on_a_lock() == 1, "the pass to reach gamma's account")
            self.assertEqual(UsageRecord.objects.count(), 0)
            self.assertTrue(Sample.objects.filter(resource=self.resource).exists())
            first.stop(signal.SIGKILL)
            self.assertIsNotNone(first.proc.poll())
        finally:
            locker.rollback()
            locker.close()
        # The killed worker's transaction dies with its connection: the whole batch is gone.
        self.wait(lambda: self.backends_waiting_on_a_lock() == 0, "the dead worker's transaction to end")
        self.assertEqual(UsageAttribution.objects.count(), 0)
        self.assertEqual(UsageRecord.objects.count(), 0)
        source = MetricSource.objects.get(pk=self.source.pk)
        self.assertIsNone(source.collected_until)  # the pass never finished
        self.assertIsNone(source.attributed_until)
        # The task was never acknowledged (acks_late): the broker still holds it.
        broker = redis.Redis.from_url(self.redis_url)
        self.assertEqual(broker.hlen("unacked"), 1)

        time.sleep(VISIBILITY_TIMEOUT + 0.5)
        self.start_worker("worker-2")
        self.wait(
            lambda: MetricSource.objects.get(pk=self.source.pk).last_success_at is not None,
            "the redelivered task to complete the pass",
        )
        self.wait(lambda: broker.hlen("unacked") == 0, "the task to be acknowledged", timeout=10)
        # The pass is not delivered a third time. What its commit queued (the record's
        # integration, the alerts' mail) may still wait for the worker: on a loaded machine it
        # was there when this was read.
        queued = [json.loads(message)["headers"]["task"] for message in broker.lrange("celery", 0, -1)]
        self.assertNotIn(collect_source.name, queued)

        self.assert_samples_match_prometheus()
        self.assert_usage_attributed_and_charged_once(expected)

    def assert_samples_match_prometheus(self):
        start = (int(self.window[0]) - 7200) // STEP * STEP
        end = int(time.time()) // STEP * STEP
        for name, query in self.source.effective_queries().items():
            held = prometheus_range(self.prometheus, query, start, end)
            stored = Sample.objects.filter(resource=self.resource, metric__name=name)
            self.assertEqual(set(stored.values_list("time", "value")), held, name)
            hourly = HourlyRollup.objects.filter(resource=self.resource, metric__name=name)
            daily = DailyRollup.objects.filter(resource=self.resource, metric__name=name)
            self.assertEqual(sum(hourly.values_list("count", flat=True)), len(held), name)
            self.assertEqual(sum(daily.values_list("count", flat=True)), len(held), name)
        self.assertTrue(Sample.objects.filter(resource=self.resource, metric__name="gpu_count").exists())

    def assert_usage_attributed_and_charged_once(self, expected):
        attributed = {(a.charter_id, a.hour): a.unit_hours for a in UsageAttribution.objects.filter(source=self.source)}
        self.assertEqual(attributed, expected)
        self.assertFalse(UsageAttribution.objects.filter(posted_at__isnull=True).exists())
        records = UsageRecord.objects.filter(resource=self.resource)
        self.assertEqual({(r.charter_id, r.hour): r.unit_hours for r in records}, expected)
        self.assertFalse(records.values("charter", "hour").annotate(n=Count("pk")).filter(n__gt=1).exists())
        debits = LedgerTransaction.objects.filter(kind=TransactionKind.USAGE)
        # Each hour charged by a debit (a batch's: one per account and day), and each debit's hours these.
        self.assertFalse(records.filter(transaction__isnull=True).exists())
        self.assertEqual(
            set(debits.values_list("usage_records__pk", flat=True)), set(records.values_list("pk", flat=True))
        )
        for label, account in self.accounts.items():
            charged = sum(
                (hours for (charter, _), hours in expected.items() if charter == self.charters[label].pk), Decimal(0)
            )
            account.refresh_from_db()
            self.assertEqual(account.balance, -charged * RATE, label)
            self.assertEqual(
                records.filter(charter=self.charters[label]).aggregate(c=Sum("credits"))["c"], charged * RATE
            )
        report = verification.verify_ledger()
        self.assertTrue(report.ok, report.problems)
        source = MetricSource.objects.get(pk=self.source.pk)
        self.assertEqual(source.attributed_until, self.end)
        self.assertEqual(source.last_error, "")
