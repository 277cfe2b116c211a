"""The metric store keeps rollups equal to the raw data, and the series API reads the right table
at a drawable number of points, with gaps where data is missing."""

from __future__ import annotations

import datetime
import json
import random

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from compute import selectors
from compute.models import DailyRollup, HourlyRollup, Metric, Resource, Sample
from compute.services.metrics import sources, store
from tests.api_checks import APIResourceChecks
from tests.base import PortalTestCase

NOW = timezone.now().replace(minute=0, second=0, microsecond=0)


def assert_rollups_match_raw(test, resource, metric):
    """Every hourly and daily bucket equals count/sum/min/max of the raw samples in it."""
    raw = Sample.objects.filter(resource=resource, metric=metric)
    for rollup_model, trunc in ((HourlyRollup, TruncHour), (DailyRollup, TruncDay)):
        expected = {
            row["bucket"]: row
            for row in raw.annotate(bucket=trunc("time", tzinfo=datetime.UTC))
            .values("bucket")
            .annotate(count=Count("value"), sum=Sum("value"), min=Min("value"), max=Max("value"))
        }
        stored = {r.bucket: r for r in rollup_model.objects.filter(resource=resource, metric=metric)}
        test.assertEqual(set(stored), set(expected), rollup_model.__name__)
        for bucket, row in expected.items():
            test.assertEqual(stored[bucket].count, row["count"])
            test.assertAlmostEqual(stored[bucket].sum, row["sum"], places=6)
            test.assertEqual(stored[bucket].min, row["min"])
            test.assertEqual(stored[bucket].max, row["max"])


class RollupTests(PortalTestCase):
    def setUp(self):
        self.resource = Resource.objects.create(name="GPU A", kind="gpu_cluster", capacity=8, jurisdiction="EU")

    def test_rollups_equal_aggregates_of_the_raw_samples_after_overlapping_batches(self):
        rng = random.Random(7)
        start = NOW - datetime.timedelta(days=3)
        for _batch in range(6):
            offset = rng.randrange(0, 3 * 24 * 60 - 600)
            rows = [
                ("DCGM_FI_DEV_GPU_UTIL", start + datetime.timedelta(minutes=offset + i), rng.uniform(0, 100))
                for i in range(rng.randrange(50, 600))
            ]
            store.save(self.resource.pk, rows)
        metric = Metric.objects.get(name="DCGM_FI_DEV_GPU_UTIL")
        assert_rollups_match_raw(self, self.resource, metric)

    def test_a_rerun_with_changed_values_updates_the_rollups(self):
        rows = [("cpu_utilization", NOW - datetime.timedelta(minutes=i), 10.0) for i in range(30)]
        store.save(self.resource.pk, rows)
        store.save(self.resource.pk, [(m, t, 90.0) for m, t, _ in rows[:10]])
        self.assertEqual(Sample.objects.filter(resource=self.resource).count(), 30)
        assert_rollups_match_raw(self, self.resource, Metric.objects.get(name="cpu_utilization"))

    def test_samples_of_an_unknown_resource_are_refused_and_nothing_is_written(self):
        metric_id = store.metric_ids({"cpu_utilization"})["cpu_utilization"]
        with self.assertRaises(ValueError):
            store.ingest([(self.resource.pk + 1000, metric_id, NOW, 1.0), (self.resource.pk, metric_id, NOW, 2.0)])
        with self.assertRaises(ValueError):
            store.ingest([(self.resource.pk, metric_id + 1000, NOW, 1.0)])
        self.assertFalse(Sample.objects.exists())
        self.assertFalse(HourlyRollup.objects.exists())

    def test_a_batch_between_stored_samples_is_merged_like_any_other(self):
        # Minutes 0, 2, 4 … first (an all-new batch, copied straight in), then 1, 3, 5 … and a
        # change to minute 10: the second batch lies among stored samples and is upserted.
        start = NOW - datetime.timedelta(hours=5)
        store.save(
            self.resource.pk,
            [("cpu_utilization", start + datetime.timedelta(minutes=m), 1.0) for m in range(0, 240, 2)],
        )
        store.save(
            self.resource.pk,
            [("cpu_utilization", start + datetime.timedelta(minutes=m), 3.0) for m in range(1, 240, 2)]
            + [("cpu_utilization", start + datetime.timedelta(minutes=10), -5.0)],
        )
        self.assertEqual(Sample.objects.filter(resource=self.resource).count(), 240)
        assert_rollups_match_raw(self, self.resource, Metric.objects.get(name="cpu_utilization"))

    def test_non_finite_values_are_never_stored(self):
        stored = store.save(
            self.resource.pk,
            [
                ("cpu_utilization", NOW, float("nan")),
                ("cpu_utilization", NOW - datetime.timedelta(minutes=1), float("inf")),
            ],
        )
        self.assertEqual(stored, 0)
        self.assertFalse(Sample.objects.exists())

    @override_settings(METRICS_RAW_RETENTION_DAYS=2)
    def test_retention_purges_old_raw_samples_and_keeps_their_rollups(self):
        # A day of minutes that straddles the horizon (a midnight), whatever the hour the suite runs at.
        horizon = store.raw_horizon()
        start = horizon - datetime.timedelta(hours=12)
        rows = [("cpu_utilization", start + datetime.timedelta(minutes=i), float(i)) for i in range(60 * 24)]
        with override_settings(METRICS_RAW_RETENTION_DAYS=10):
            store.save(self.resource.pk, rows)
        hourly_before = HourlyRollup.objects.count()
        deleted = store.purge_raw()
        self.assertEqual(store.raw_horizon(), horizon)
        self.assertEqual(deleted, 12 * 60)
        self.assertFalse(Sample.objects.filter(time__lt=horizon).exists())
        self.assertTrue(Sample.objects.filter(time__gte=horizon).exists())
        self.assertEqual(HourlyRollup.objects.count(), hourly_before)
        # Data older than the horizon is not taken in any more (its buckets could not be recomputed).
        self.assertEqual(
            store.save(self.resource.pk, [("cpu_utilization", horizon - datetime.timedelta(hours=1), 1.0)]), 0
        )


class RollupPropertyTests(HypothesisTestCase):
    """Each example runs in its own transaction (hypothesis.extra.django)."""

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        batches=st.lists(
            st.lists(
                st.tuples(st.integers(0, 3 * 24 * 3600), st.floats(-1e6, 1e6, allow_nan=False)),
                min_size=1,
                max_size=40,
            ),
            min_size=1,
            max_size=4,
        )
    )
    def test_rollups_hold_for_any_sequence_of_upserts(self, batches):
        resource = Resource.objects.create(name="GPU H", kind="gpu_cluster", capacity=8, jurisdiction="EU")
        start = NOW - datetime.timedelta(days=3)
        for batch in batches:
            store.save(
                resource.pk,
                [("cpu_utilization", start + datetime.timedelta(seconds=s), v) for s, v in batch],
            )
        assert_rollups_match_raw(self, resource, Metric.objects.get(name="cpu_utilization"))


class GroupedReadPropertyTests(HypothesisTestCase):
    """A series read at a step coarser than its table (raw samples into 5-minute slots, hourly
    rollups into 3-hour slots) puts every sample in the slot its time falls in, on a boundary and
    a second either side of it (the store keeps whole seconds), with the slot's mean, minimum
    and maximum."""

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        samples=st.lists(
            st.tuples(
                st.integers(0, 1),  # resource
                # Seconds into six hours, on a slot's boundary or a second either side.
                st.integers(0, 6 * 3600 - 1).map(lambda s: s - s % 300) | st.integers(0, 6 * 3600 - 1),
                st.sampled_from([-1, 0, 1]),
                st.floats(-1e3, 1e3, allow_nan=False),
            ),
            min_size=1,
            max_size=40,
        ),
        step=st.sampled_from([300, 900, 3 * 3600]),
    )
    def test_each_slot_holds_the_samples_whose_time_falls_in_it(self, samples, step):
        resources = [
            Resource.objects.create(name=f"GPU {n}", kind="gpu_cluster", capacity=8, jurisdiction="EU") for n in (0, 1)
        ]
        start = NOW - datetime.timedelta(hours=6)
        latest = {}
        for n, second, shift, value in samples:
            moment = start + datetime.timedelta(seconds=second + shift)
            if moment >= start:
                latest[(n, moment)] = value  # a key sent twice keeps the later value
        for n in (0, 1):
            rows = [("cpu_utilization", moment, v) for (r, moment), v in latest.items() if r == n]
            if rows:
                store.save(resources[n].pk, rows)
        plan_ = store.plan(start, NOW, step)
        self.assertEqual(plan_.step, step)
        metric = Metric.objects.filter(name="cpu_utilization").first()
        if metric is None:
            return
        read = store.read_series([r.pk for r in resources], metric.pk, plan_, envelope=True)
        for n, resource in enumerate(resources):
            slots: dict[int, list[float]] = {}
            for (r, moment), value in latest.items():
                if r == n:
                    slots.setdefault(int((moment - plan_.start).total_seconds() // step), []).append(value)
            means, lows, highs = read[resource.pk]
            for index in range(plan_.slots):
                found = slots.get(index)
                if not found:
                    self.assertIsNone(means[index], (n, index))
                    continue
                self.assertAlmostEqual(means[index], sum(found) / len(found), places=3)
                self.assertAlmostEqual(lows[index], min(found), places=3)
                self.assertAlmostEqual(highs[index], max(found), places=3)


class IncrementalRollupPropertyTests(HypothesisTestCase):
    """PostgreSQL merges each batch's aggregates into the rollups (recomputing only the buckets
    where a stored value changed): the result must equal rollups recomputed from the raw samples,
    for several series at once, with duplicate keys inside a batch (the later wins), samples sent
    again unchanged, and samples sent again with a new value."""

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        batches=st.lists(
            st.lists(
                st.tuples(
                    st.integers(0, 1),  # resource
                    st.sampled_from(["cpu_utilization", "DCGM_FI_DEV_GPU_UTIL"]),
                    st.integers(0, 2 * 24 * 3600),  # within two days: hours and a midnight
                    st.sampled_from([0.0, 1.5, 50.0, 99.0, -3.25]) | st.floats(-1e3, 1e3, allow_nan=False),
                ),
                min_size=1,
                max_size=30,
            ),
            min_size=1,
            max_size=5,
        ),
        resend=st.lists(st.tuples(st.integers(0, 200), st.booleans()), max_size=10),
    )
    def test_incremental_rollups_equal_recomputed_ones(self, batches, resend):
        resources = [
            Resource.objects.create(name=f"GPU I{n}", kind="gpu_cluster", capacity=8, jurisdiction="EU")
            for n in range(2)
        ]
        start = NOW - datetime.timedelta(days=2)
        sent: list[tuple] = []
        expected: dict[tuple, float] = {}
        for batch in batches:
            by_resource: dict[int, list] = {0: [], 1: []}
            for resource_index, name, second, value in batch:
                moment = start + datetime.timedelta(seconds=second)
                by_resource[resource_index].append((name, moment, value))
                sent.append((resource_index, name, moment, value))
            for resource_index, rows in by_resource.items():
                if rows:
                    store.save(resources[resource_index].pk, rows)
                for name, moment, value in rows:
                    expected[(resource_index, name, moment)] = value
        # Earlier samples sent again, unchanged or with a new value.
        for index, change in resend:
            resource_index, name, moment, value = sent[index % len(sent)]
            value = value + 7.0 if change else expected[(resource_index, name, moment)]
            store.save(resources[resource_index].pk, [(name, moment, value)])
            expected[(resource_index, name, moment)] = value
        index_of = {resource.pk: n for n, resource in enumerate(resources)}
        stored = {
            (index_of[s.resource_id], s.metric.name, s.time): s.value for s in Sample.objects.select_related("metric")
        }
        self.assertEqual(stored, expected)
        for resource in resources:
            for metric in Metric.objects.all():
                assert_rollups_match_raw(self, resource, metric)


class SeriesAPITests(PortalTestCase):
    URL = "/api/metrics/series/"

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.resources = [
            Resource.objects.create(name=f"Node {n}", kind="gpu_cluster", capacity=8, jurisdiction="EU")
            for n in range(3)
        ]
        start = NOW - datetime.timedelta(days=30)
        for n, resource in enumerate(cls.resources):
            rows = [
                ("DCGM_FI_DEV_GPU_UTIL", start + datetime.timedelta(minutes=10 * i), float((i + n) % 100))
                for i in range(30 * 24 * 6)
                # A gap of six hours, five days ago: missing data, not zero.
                if not (
                    NOW - datetime.timedelta(days=5)
                    <= start + datetime.timedelta(minutes=10 * i)
                    < NOW - datetime.timedelta(days=5, hours=-6)
                )
            ]
            store.save(resource.pk, rows)

    def get(self, user=None, **params):
        return self.api(user or self.public_member).get(self.URL, params)

    def test_a_thirty_day_chart_reads_the_hourly_rollup(self):
        params = {
            "resource": self.resources[0].pk,
            "metric": "DCGM_FI_DEV_GPU_UTIL",
            "start": (NOW - datetime.timedelta(days=30)).isoformat(),
            "end": NOW.isoformat(),
        }
        response = self.get(**params, step=3600)
        self.assertEqual(response.status_code, 200, response.content)
        data = response.json()
        self.assertEqual(data["resolution"], "hour")
        self.assertEqual(data["step"], 3600)
        self.assertEqual(len(data["series"][0]["values"]), 720)
        self.assertEqual(len(data["times"]), 720)
        self.assertEqual(data["unit"], "%")
        # Left to choose, the server draws a few hundred points, still from the hourly rollup.
        data = self.get(**params).json()
        self.assertEqual(data["resolution"], "hour")
        self.assertLessEqual(len(data["times"]), 300)

    def test_an_hour_of_data_reads_raw_samples(self):
        response = self.get(
            resource=self.resources[0].pk,
            metric="DCGM_FI_DEV_GPU_UTIL",
            start=(NOW - datetime.timedelta(hours=2)).isoformat(),
            end=NOW.isoformat(),
            step=600,
        )
        data = response.json()
        self.assertEqual(data["resolution"], "raw")
        self.assertEqual(data["step"], 600)

    def test_a_chart_never_gets_more_points_than_it_can_draw(self):
        response = self.get(
            resource=self.resources[0].pk,
            metric="DCGM_FI_DEV_GPU_UTIL",
            start=(NOW - datetime.timedelta(days=30)).isoformat(),
            end=NOW.isoformat(),
            step=60,
        )
        data = response.json()
        self.assertLessEqual(len(data["times"]), 1000)
        self.assertLessEqual(len(data["series"][0]["values"]), 1000)
        self.assertGreaterEqual(data["step"], 60)

    def test_a_year_reads_the_daily_rollup(self):
        response = self.get(
            resource=self.resources[0].pk,
            metric="DCGM_FI_DEV_GPU_UTIL",
            start=(NOW - datetime.timedelta(days=365)).isoformat(),
            end=NOW.isoformat(),
            step=86400,
        )
        data = response.json()
        self.assertEqual(data["resolution"], "day")
        values = [v for v in data["series"][0]["values"] if v is not None]
        self.assertTrue(30 <= len(values) <= 32)

    def test_the_envelope_gives_min_and_max_per_slot(self):
        data = self.get(
            resource=self.resources[0].pk,
            metric="DCGM_FI_DEV_GPU_UTIL",
            start=(NOW - datetime.timedelta(days=2)).isoformat(),
            end=NOW.isoformat(),
            step=3600,
            envelope="true",
        ).json()
        series = data["series"][0]
        self.assertEqual(len(series["min"]), len(series["values"]))
        for low, mean, high in zip(series["min"], series["values"], series["max"], strict=True):
            if mean is not None:
                self.assertLessEqual(low, mean)
                self.assertLessEqual(mean, high)
        plain = self.get(resource=self.resources[0].pk, metric="DCGM_FI_DEV_GPU_UTIL").json()
        self.assertNotIn("min", plain["series"][0])

    def test_missing_data_is_a_gap_never_a_zero(self):
        response = self.get(
            resource=self.resources[0].pk,
            metric="DCGM_FI_DEV_GPU_UTIL",
            start=(NOW - datetime.timedelta(days=6)).isoformat(),
            end=(NOW - datetime.timedelta(days=4)).isoformat(),
            step=3600,
        )
        data = response.json()
        series = data["series"][0]
        gap = [
            v
            for t, v in zip(data["times"], series["values"], strict=True)
            if NOW - datetime.timedelta(days=5)
            <= datetime.datetime.fromisoformat(t)
            < NOW - datetime.timedelta(days=5, hours=-6)
        ]
        self.assertEqual(gap, [None] * 6)
        self.assertNotIn(0, [v for v in series["values"] if v is not None][:0])

    def test_hourly_means_equal_the_raw_means(self):
        start = NOW - datetime.timedelta(days=2)
        hourly = self.get(
            resource=self.resources[1].pk,
            metric="DCGM_FI_DEV_GPU_UTIL",
            start=start.isoformat(),
            end=NOW.isoformat(),
            step=3600,
        ).json()
        raw = Sample.objects.filter(
            resource=self.resources[1], time__gte=start, time__lt=start + datetime.timedelta(hours=1)
        )
        expected = sum(raw.values_list("value", flat=True)) / raw.count()
        self.assertAlmostEqual(hourly["series"][0]["values"][0], expected, places=3)

    def test_several_resources_in_one_query_cost_the_same_queries_as_one(self):
        params = {
            "metric": "DCGM_FI_DEV_GPU_UTIL",
            "start": (NOW - datetime.timedelta(days=30)).isoformat(),
            "step": 3600,
        }
        client = self.api(self.public_member)
        everyone = {**params, "resource": ",".join(str(r.pk) for r in self.resources)}
        client.get(self.URL, everyone)  # each series' data cached (pre-serialised) from here on
        with CaptureQueriesContext(connection) as one:
            client.get(self.URL, {**params, "resource": self.resources[0].pk})
        with self.assertNumQueries(len(one)):
            response = client.get(self.URL, everyone)
        self.assertEqual(len(response.json()["series"]), 3)

    def test_a_cached_answer_is_the_same_document_and_never_outlives_a_write(self):
        params = {
            "resource": ",".join(str(r.pk) for r in self.resources),
            "metric": "DCGM_FI_DEV_GPU_UTIL",
            "start": (NOW - datetime.timedelta(days=3)).isoformat(),
            "end": NOW.isoformat(),
            "step": "3600",
        }
        client = self.api(self.public_member)
        rollups = HourlyRollup._meta.db_table
        for envelope in ("", "1"):
            query = {**params, "envelope": envelope}
            with CaptureQueriesContext(connection) as cold:
                first = client.get(self.URL, query)
            with CaptureQueriesContext(connection) as warm:
                second = client.get(self.URL, query)
            self.assertEqual(first.status_code, 200)
            self.assertEqual(first["Content-Type"], "application/json")
            self.assertTrue(any(rollups in q["sql"] for q in cold.captured_queries))
            self.assertFalse(any(rollups in q["sql"] for q in warm.captured_queries), "answered from the cache")
            self.assertEqual(second.json(), first.json())
            # The same document as the dashboards' selector builds.
            expected = selectors.series(
                self.public_member,
                resources=[params["resource"]],
                metric=params["metric"],
                start=params["start"],
                end=params["end"],
                step=params["step"],
                envelope=bool(envelope),
            )
            self.assertEqual(first.json(), json.loads(json.dumps(expected, cls=DjangoJSONEncoder)))
        # A batch that changes one series: its next answer is read again and shows the change.
        hour = NOW - datetime.timedelta(hours=2)
        store.save(
            self.resources[1].pk,
            [("DCGM_FI_DEV_GPU_UTIL", hour + datetime.timedelta(minutes=m), 1000.0) for m in range(60)],
        )
        changed = client.get(self.URL, params).json()
        slot = changed["times"].index(hour.isoformat().replace("+00:00", "Z"))
        self.assertEqual(changed["series"][1]["values"][slot], 1000.0)
        self.assertEqual(changed["series"][0]["values"], first.json()["series"][0]["values"])

    def test_bad_parameters_are_a_clear_400(self):
        cases = [
            {"metric": "DCGM_FI_DEV_GPU_UTIL"},
            {"resource": "x", "metric": "DCGM_FI_DEV_GPU_UTIL"},
            {"resource": self.resources[0].pk},
            {"resource": self.resources[0].pk, "metric": "m", "start": "yesterday"},
            {"resource": self.resources[0].pk, "metric": "m", "step": "-5"},
            {
                "resource": self.resources[0].pk,
                "metric": "m",
                "start": NOW.isoformat(),
                "end": (NOW - datetime.timedelta(hours=1)).isoformat(),
            },
            {"resource": 999999, "metric": "m"},
        ]
        for params in cases:
            with self.subTest(params):
                response = self.get(**params)
                self.assertEqual(response.status_code, 400, response.content)
                self.assertTrue(response.json()["detail"])

    def test_anonymous_callers_get_no_series(self):
        self.assertEqual(self.api().get(self.URL, {"resource": self.resources[0].pk, "metric": "x"}).status_code, 401)

    def test_each_series_says_how_fresh_its_source_is(self):
        sources.create_source(self.admin, name="Agent", kind="push", resource=self.resources[2])
        data = self.get(resource=self.resources[2].pk, metric="DCGM_FI_DEV_GPU_UTIL").json()
        self.assertEqual(data["series"][0]["freshness"]["state"], "waiting")
        data = self.get(resource=self.resources[0].pk, metric="DCGM_FI_DEV_GPU_UTIL").json()
        self.assertEqual(data["series"][0]["freshness"]["state"], "none")


class MetricSourceAPITests(APIResourceChecks, PortalTestCase):
    url = "/api/metric-sources/"

    def setUp(self):
        self.resource = Resource.objects.create(name="Pool", kind="cpu_pool", capacity=64, jurisdiction="EU")
        self.make_object(0)

    def make_object(self, n):
        return sources.create_source(self.admin, name=f"Source {n}", kind="local", resource=self.resource)

    def create_payload(self):
        return {
            "name": "Cluster Prometheus",
            "kind": "prometheus",
            "url": "http://prometheus.example:9090",
            "resource": self.resource.pk,
            "bearer_token": "s3cret",
            "charter_label": "project",
        }

    def update_payload(self):
        return {"enabled": False}

    def test_a_push_source_shows_its_token_once(self):
        response = self.api(self.admin).post(
            self.url, {"name": "Agent", "kind": "push", "resource": self.resource.pk}, format="json"
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertTrue(response.json()["token"].startswith("tgbm_"))
        again = self.api(self.admin).get(f"{self.url}{response.json()['id']}/").json()
        self.assertIsNone(again["token"])

    def test_the_prometheus_bearer_token_is_never_read_back(self):
        response = self.api(self.admin).post(self.url, self.create_payload(), format="json")
        self.assertNotIn("bearer_token", response.json())
        self.assertNotIn("s3cret", response.content.decode())

    def test_a_query_reading_a_raw_counter_is_refused(self):
        payload = {**self.create_payload(), "queries": {"cpu_utilization": "avg(node_cpu_seconds_total)"}}
        response = self.api(self.admin).post(self.url, payload, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("rate()", response.json()["detail"])

    def test_a_prometheus_source_needs_its_url(self):
        payload = {**self.create_payload(), "url": ""}
        response = self.api(self.admin).post(self.url, payload, format="json")
        self.assertEqual(response.status_code, 400)

    def test_a_source_cannot_change_kind(self):
        source = self.make_object(1)
        response = self.api(self.admin).patch(f"{self.url}{source.pk}/", {"kind": "push"}, format="json")
        self.assertEqual(response.status_code, 400)
