"""Dashboards that tell the truth, on constructed histories: no line where no source collects,
gaps as nulls, every source's freshness (a disabled one too), legends of series with data only,
GPU charts of GPU resources only, the security trend as one small chart per resource, range
labels that say what the data covers, and query counts that do not grow with the history."""

from __future__ import annotations

import datetime
import json
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compute.collectors import catalogue
from compute.models import MetricSource, Resource, SecurityScan
from compute.services.metrics import sources, store
from tests.base import PortalTestCase

GPU_CHART = "chart-dcgm-fi-dev-gpu-util-data"
CPU_CHART = "chart-cpu-utilization-data"


def chart(html: str, element_id: str) -> dict | None:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else None


class UtilizationTruthTests(PortalTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.now = timezone.now().replace(second=0, microsecond=0)
        cls.collected = Resource.objects.create(
            name="Collected GPUs", kind="gpu_cluster", capacity=8, jurisdiction="EU"
        )
        cls.orphan = Resource.objects.create(name="Orphan GPUs", kind="gpu_cluster", capacity=8, jurisdiction="EU")
        cls.retired_source = Resource.objects.create(
            name="Switched-off GPUs", kind="gpu_cluster", capacity=8, jurisdiction="EU"
        )
        cls.storage = Resource.objects.create(name="Object store", kind="storage", capacity=100, jurisdiction="EU")
        cls.cpus = Resource.objects.create(name="CPU pool", kind="cpu_pool", capacity=64, jurisdiction="EU")
        # Samples every 5 minutes over the last 24 hours, two hours missing in the middle.
        minutes = [5 * i for i in range(12 * 24) if not 100 <= i < 124]
        rows = [(catalogue.GPU_UTIL, cls.now - datetime.timedelta(minutes=m), 40.0) for m in minutes]
        rows += [(catalogue.CPU_UTILIZATION, cls.now - datetime.timedelta(minutes=m), 30.0) for m in minutes]
        store.save(cls.collected.pk, rows)
        # Samples stored for a resource no source collects (an old import): no line for them.
        store.save(
            cls.orphan.pk, [(catalogue.GPU_UTIL, cls.now - datetime.timedelta(minutes=m), 90.0) for m in minutes]
        )
        # GPU metrics stored against storage and a CPU pool: never in the GPU chart.
        store.save(
            cls.storage.pk, [(catalogue.GPU_UTIL, cls.now - datetime.timedelta(minutes=m), 10.0) for m in minutes]
        )
        store.save(
            cls.cpus.pk, [(catalogue.CPU_UTILIZATION, cls.now - datetime.timedelta(minutes=m), 20.0) for m in minutes]
        )
        push = sources.create_source(cls.admin, name="Agent", kind="push", resource=cls.collected)
        MetricSource.objects.filter(pk=push.pk).update(last_success_at=cls.now - datetime.timedelta(minutes=2))
        # A disabled source that collected for its resource until six hours ago.
        off = sources.create_source(
            cls.admin, name="Old Prometheus", kind="prometheus", url="http://127.0.0.1:9", resource=cls.retired_source
        )
        MetricSource.objects.filter(pk=off.pk).update(
            enabled=False, last_success_at=cls.now - datetime.timedelta(hours=6)
        )
        store.save(
            cls.retired_source.pk,
            [(catalogue.GPU_UTIL, cls.now - datetime.timedelta(minutes=m), 55.0) for m in range(6 * 60, 20 * 60, 5)],
        )
        for resource in (cls.storage, cls.cpus):
            source = sources.create_source(cls.admin, name=f"Agent of {resource.name}", kind="push", resource=resource)
            MetricSource.objects.filter(pk=source.pk).update(last_success_at=cls.now - datetime.timedelta(minutes=2))

    def page(self, url="/compute/dashboards/?range=24h"):
        self.client.force_login(self.public_member)
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        return response, response.content.decode()

    def test_no_line_for_a_resource_no_source_collects(self):
        response, html = self.page()
        names = [s["resource_name"] for s in chart(html, GPU_CHART)["series"]]
        self.assertNotIn("Orphan GPUs", names)
        self.assertIn("Collected GPUs", names)
        self.assertIn("<strong>Orphan GPUs</strong>: no line, no metric source collects this resource.</li>", html)

    def test_gpu_charts_list_only_gpu_resources(self):
        response, html = self.page()
        names = {s["resource_name"] for s in chart(html, GPU_CHART)["series"]}
        self.assertEqual(names, {"Collected GPUs", "Switched-off GPUs"})
        gpu = response.context["charts"][0]
        listed = {s["resource_name"] for s in gpu["data"]["series"] + gpu["data"]["silent"]}
        self.assertNotIn("Object store", listed)
        self.assertNotIn("CPU pool", listed)
        # CPU utilization applies to every kind: the pool is there.
        self.assertIn("CPU pool", {s["resource_name"] for s in chart(html, CPU_CHART)["series"]})

    def test_the_legend_holds_only_series_with_data(self):
        response, html = self.page()
        cpu = chart(html, CPU_CHART)
        # The switched-off cluster has no CPU data: it is named under the chart, not in the legend.
        self.assertEqual({s["resource_name"] for s in cpu["series"]}, {"Collected GPUs", "CPU pool"})
        for series in cpu["series"]:
            self.assertTrue(any(v is not None for v in series["values"]))
        self.assertIn(
            "<strong>Switched-off GPUs</strong>: no line, no data in this range. Source Old Prometheus is disabled",
            html,
        )

    def test_missing_samples_are_gaps_not_interpolated(self):
        response, html = self.page()
        data = chart(html, GPU_CHART)
        values = next(s["values"] for s in data["series"] if s["resource_name"] == "Collected GPUs")
        self.assertEqual(len(values), data["slots"])
        # A run of nulls where the two hours are missing, and no invented value inside it.
        nulls = [i for i, v in enumerate(values) if v is None]
        self.assertGreaterEqual(len(nulls), 20)
        self.assertNotIn(0, values)
        self.assertEqual({v for v in values if v is not None}, {40.0})

    def test_a_kept_series_never_outlives_a_sample(self):
        # The 24-hour chart is read from raw samples; a second visit draws the kept read, and a
        # sample collected in between (a value in the two missing hours) is drawn at once.
        def collected() -> list:
            data = chart(self.page()[1], GPU_CHART)
            return next(s["values"] for s in data["series"] if s["resource_name"] == "Collected GPUs")

        first = collected()
        self.assertEqual(collected(), first)
        self.assertEqual(self.page()[0].context["charts"][0]["data"]["resolution"], "raw")
        store.save(self.collected.pk, [(catalogue.GPU_UTIL, self.now - datetime.timedelta(minutes=5 * 110), 70.0)])
        after = collected()
        changed = [i for i, (old, new) in enumerate(zip(first, after, strict=True)) if old != new]
        self.assertEqual(len(changed), 1)
        self.assertIsNone(first[changed[0]])
        self.assertEqual(after[changed[0]], 70.0)

    def test_a_disabled_source_says_so_and_when_it_last_collected(self):
        response, html = self.page()
        last = (self.now - datetime.timedelta(hours=6)).strftime("%Y-%m-%d %H:%M")
        self.assertIn(f"Source Old Prometheus is disabled; last collected 6\xa0hours ago ({last} UTC).", html)
        MetricSource.objects.filter(name="Old Prometheus").update(last_success_at=None)
        response, html = self.page()
        self.assertIn("Source Old Prometheus is disabled; it never collected.", html)

    def test_range_labels_say_what_the_data_covers(self):
        response, html = self.page()
        self.assertIn("GPU utilization (%), last 24 hours</h2>", html)
        response, html = self.page("/compute/dashboards/?range=7d")
        # Seven days asked, one day of data: the label says what is there.
        self.assertRegex(html, r"GPU utilization \(%\), since [0-9-]+ [0-9:]+ UTC \(2[45] hours\)</h2>")

    def test_query_count_does_not_grow_with_the_history(self):
        """Nor with the resources, whether the series are read or kept (series_cache). The
        queries of a cache held in the database (SQLite's default) are the cache's own: it
        writes each kept series apart, where Redis takes them in one round trip."""

        def portal(captured) -> list[str]:
            return [q["sql"] for q in captured if "tgb_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]]

        self.client.force_login(self.public_member)
        self.client.get("/compute/dashboards/?range=30d")
        with CaptureQueriesContext(connection) as few:
            self.client.get("/compute/dashboards/?range=30d")
        store.save(self.collected.pk, [(catalogue.GPU_UTIL, self.now - datetime.timedelta(days=1), 40.0)])
        with CaptureQueriesContext(connection) as few_read:
            self.client.get("/compute/dashboards/?range=30d")
        more = [
            (catalogue.GPU_UTIL, self.now - datetime.timedelta(days=d, minutes=5 * i), 42.0)
            for d in range(2, 28)
            for i in range(0, 288, 12)
        ]
        store.save(self.collected.pk, more)
        extra = Resource.objects.create(name="More GPUs", kind="gpu_cluster", capacity=8, jurisdiction="EU")
        store.save(extra.pk, more)
        sources.create_source(self.admin, name="Agent 2", kind="push", resource=extra)
        with CaptureQueriesContext(connection) as many_read:
            self.client.get("/compute/dashboards/?range=30d")
        with CaptureQueriesContext(connection) as many:
            self.client.get("/compute/dashboards/?range=30d")
        self.assertEqual(len(portal(many_read)), len(portal(few_read)))
        self.assertEqual(len(portal(many)), len(portal(few)))
        # Kept series cost no query of their own; those read, one aggregation per chart.
        self.assertEqual(len(portal(few_read)), len(portal(few)) + 1)


class SecurityTrendTests(PortalTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        now = timezone.now()
        cls.resources = [
            Resource.objects.create(name=f"Node {n}", kind="gpu_cluster", capacity=8, jurisdiction="EU")
            for n in range(4)
        ]
        # 75 days of weekly scans, each resource with its own scores.
        for n, resource in enumerate(cls.resources):
            for week in range(11):
                when = now - datetime.timedelta(days=75 - 7 * week)
                SecurityScan.objects.create(
                    resource=resource,
                    kind="lynis",
                    scanned_at=when,
                    score=40 + 10 * n + week,
                    origin="upload",
                    digest=f"l{n}-{week}",
                )
                SecurityScan.objects.create(
                    resource=resource,
                    kind="trivy",
                    scanned_at=when,
                    critical=n,
                    high=week,
                    origin="upload",
                    digest=f"t{n}-{week}",
                )

    def page(self):
        self.client.force_login(self.public_member)
        response = self.client.get("/compute/dashboards/security/")
        self.assertEqual(response.status_code, 200)
        return response, response.content.decode()

    def test_the_posture_table_says_nothing_where_a_scan_reported_no_count(self):
        SecurityScan.objects.create(
            resource=self.resources[0],
            kind="openscap",
            scanned_at=timezone.now(),
            score=59.0,
            origin="upload",
            digest="o-no-max",
        )
        _, html = self.page()
        self.assertIn("59.0", html)
        self.assertNotIn("59.0 /", html)  # no maximum was reported
        self.assertNotIn("None", html)  # neither "None warnings" nor "None / None"

    def test_one_small_chart_per_resource(self):
        response, html = self.page()
        trends = response.context["trends"]
        self.assertEqual([c["resource"] for c in trends["score"]], [r.name for r in self.resources])
        self.assertEqual(len(trends["vulnerabilities"]), 4)
        for small in trends["score"]:
            # Each small chart holds its own resource's scanners only, on the same 0-100 scale.
            self.assertEqual([t["name"] for t in small["data"]["traces"]], ["Lynis"])
            self.assertEqual(small["data"]["ymax"], 100)
            self.assertIn(f'id="{small["data_id"]}"', html)
        self.assertEqual(len({c["data"]["ymax"] for c in trends["vulnerabilities"]}), 1)
        self.assertEqual(html.count('data-chart="trend"'), 8)

    def test_the_range_label_says_what_the_scans_cover(self):
        response, html = self.page()
        first = (timezone.now() - datetime.timedelta(days=75)).strftime("%Y-%m-%d")
        self.assertIn(f"Trends, since {first} (75 days)</h2>", html)
        self.assertNotIn("last 180 days</h2>", html)

    def test_query_count_does_not_grow_with_resources_or_scans(self):
        self.client.force_login(self.public_member)
        self.client.get("/compute/dashboards/security/")
        with CaptureQueriesContext(connection) as few:
            self.client.get("/compute/dashboards/security/")
        now = timezone.now()
        for n in range(4, 10):
            resource = Resource.objects.create(name=f"Node {n}", kind="cpu_pool", capacity=8, jurisdiction="EU")
            for week in range(5):
                SecurityScan.objects.create(
                    resource=resource,
                    kind="lynis",
                    scanned_at=now - datetime.timedelta(days=7 * week),
                    score=70,
                    digest=f"extra-{n}-{week}",
                    origin="upload",
                )
        with CaptureQueriesContext(connection) as many:
            self.client.get("/compute/dashboards/security/")
        self.assertEqual(len(many), len(few))
