"""The dashboard pages: utilization by resource, usage by charter, security posture."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from charters.models import Charter
from compute.models import MetricSource, Resource, SecurityScan
from compute.services.metrics import attribution, security, sources, store
from tests.base import PortalTestCase

FIXTURES = Path(__file__).parent / "fixtures"


class DashboardTests(PortalTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.cluster = Resource.objects.create(
            name="Sovereign GPU cluster", kind="gpu_cluster", capacity=8, jurisdiction="EU", tee_capable=True
        )
        cls.pool = Resource.objects.create(name="Research CPU pool", kind="cpu_pool", capacity=64, jurisdiction="EU")
        now = timezone.now().replace(second=0, microsecond=0)
        rows = [
            ("DCGM_FI_DEV_GPU_UTIL", now - datetime.timedelta(minutes=5 * i), 50.0)
            for i in range(12 * 24)
            if not 24 <= i < 48  # two hours missing
        ]
        store.save(cls.cluster.pk, rows)
        cls.source = sources.create_source(cls.admin, name="Cluster agent", kind="push", resource=cls.cluster)
        MetricSource.objects.filter(pk=cls.source.pk).update(last_success_at=now - datetime.timedelta(minutes=3))
        cls.down = sources.create_source(
            cls.admin, name="Pool Prometheus", kind="prometheus", url="http://127.0.0.1:9", resource=cls.pool
        )
        MetricSource.objects.filter(pk=cls.down.pk).update(
            failing_since=now - datetime.timedelta(hours=2),
            last_error="Prometheus at http://127.0.0.1:9 is unreachable",
        )

    def page(self, url, user=None):
        self.client.force_login(user or self.public_member)
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def test_the_utilization_page_charts_each_resource_with_a_freshness_line(self):
        html = self.page("/compute/dashboards/?range=24h")
        self.assertIn("GPU utilization", html)
        self.assertIn("Collected 3\xa0minutes ago", html)
        self.assertIn("down since", html)
        self.assertIn('data-chart="series"', html)
        self.assertIn("/static/vendor/plotly-basic/plotly-basic.min.js", html)
        self.assertIn("/static/js/metrics-dashboards.js", html)

    def test_charts_carry_gaps_as_nulls_and_a_table_alternative(self):
        html = self.page("/compute/dashboards/?range=24h")
        data = json.loads(
            re.search(
                r'<script id="chart-dcgm-fi-dev-gpu-util-data" type="application/json">(.*?)</script>', html, re.S
            ).group(1)
        )
        cluster = next(s for s in data["series"] if s["resource_name"] == "Sovereign GPU cluster")
        self.assertIn(None, cluster["values"])
        self.assertNotIn(0, cluster["values"])
        self.assertLessEqual(data["slots"], 1000)
        self.assertEqual(len(cluster["values"]), data["slots"])
        self.assertIn("GPU utilization as a table</a>", html)
        self.assertNotIn('<table class="data-table">', html)  # the table is a page of its own
        html = self.page("/compute/dashboards/table/?metric=DCGM_FI_DEV_GPU_UTIL&range=24h")
        self.assertIn('<th scope="col" class="num">Sovereign GPU cluster</th>', html)
        # The two missing hours are one row of the table, not 24 rows of dashes.
        self.assertRegex(html, r'<th scope="row">[0-9-]+ [0-9:]+ to [0-9-]+ [0-9:]+</th><td colspan="1">No data</td>')

    def test_no_page_script_is_inline_and_nothing_loads_from_a_cdn(self):
        for url in ("/compute/dashboards/", "/compute/dashboards/usage/", "/compute/dashboards/security/"):
            html = self.page(url, self.admin)
            for script in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
                attributes, body = script
                self.assertTrue('src="/static/' in attributes or 'type="application/json"' in attributes, attributes)
            self.assertNotRegex(html, r'(src|href)="(https?:)?//')

    def test_an_unknown_table_is_a_404(self):
        self.client.force_login(self.public_member)
        self.assertEqual(self.client.get("/compute/dashboards/table/?metric=nope").status_code, 404)

    def test_a_range_and_resources_can_be_chosen(self):
        html = self.page(f"/compute/dashboards/?range=30d&resources={self.pool.pk}")
        self.assertIn("Research CPU pool", html)
        self.assertNotIn("<strong>Sovereign GPU cluster:</strong>", html)
        self.assertIn("read from the hour store", html)

    def test_the_resource_boxes_say_which_are_ticked_and_tick_by_their_label(self):
        # Written in the range form's template with the markup CheckboxSelectMultiple writes.
        html = self.page(f"/compute/dashboards/?range=30d&resources={self.pool.pk}")
        boxes = re.findall(r'<label for="(id_resources_\d+)"><input type="checkbox" name="resources" '
                           r'value="(\d+)" id="(id_resources_\d+)"( checked)?> ([^<]+)</label>', html)  # fmt: skip
        ticked = {name for _, _, _, checked, name in boxes if checked}
        self.assertEqual(ticked, {"Research CPU pool"})
        self.assertIn("Sovereign GPU cluster", {name for *_, name in boxes})
        self.assertTrue(all(label == box for label, _, box, _, _ in boxes))
        self.assertLessEqual({self.pool.pk, self.cluster.pk}, {int(value) for _, value, _, _, _ in boxes})
        self.assertIn('<div id="id_resources">', html)

    def test_the_usage_page_shows_gpu_hours_per_charter(self):
        charter = Charter.objects.create(
            committee=self.committee,
            title="Flood forecasting",
            summary="-",
            lead_organization=self.orgs.ministry,
            ip_framework="joint_pool",
            status="active",
            created_by=self.staff,
        )
        hour = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=3)
        attribution.save_attribution(
            self.down, [attribution.UsageRow("metric-source:x", self.pool.pk, charter.pk, hour, Decimal("6.5000"))]
        )
        html = self.page("/compute/dashboards/usage/?range=24h")
        self.assertIn("Flood forecasting", html)
        self.assertIn("6.50", html)
        self.assertIn('data-chart="stacked"', html)

    def test_the_security_page_shows_posture_stale_markers_and_trends(self):
        security.ingest_report(
            self.admin,
            resource=self.cluster,
            data=(FIXTURES / "lynis-report.dat").read_bytes(),
            filename="lynis-report.dat",
        )
        SecurityScan.objects.update(scanned_at=timezone.now() - datetime.timedelta(days=30))
        security.ingest_report(
            self.admin,
            resource=self.cluster,
            data=(FIXTURES / "oscap-debian-all-results.xml").read_bytes(),
            filename="r.xml",
        )
        SecurityScan.objects.filter(kind="openscap").update(scanned_at=timezone.now() - datetime.timedelta(days=1))
        html = self.page("/compute/dashboards/security/")
        self.assertIn("59.9 / 100", html)
        self.assertIn("1 / 17 / 5", html)
        self.assertIn("Never scanned.", html)  # the CPU pool
        self.assertIn("Stale</span>", html)
        self.assertIn("Current</span>", html)
        self.assertIn('data-chart="trend"', html)
        self.assertIn("No attestation yet", html)
        self.assertNotIn("Upload a report", html)  # a member may not upload

    def test_an_administrator_uploads_a_report_on_the_page(self):
        self.client.force_login(self.admin)
        response = self.client.post(
            "/compute/dashboards/security/upload/",
            {
                "resource": self.cluster.pk,
                "kind": "",
                "file": SimpleUploadedFile("grype.json", (FIXTURES / "grype.json").read_bytes()),
            },
            follow=True,
        )
        self.assertContains(response, "Stored: Grype JSON")
        self.assertEqual(SecurityScan.objects.filter(kind="grype").count(), 1)
        response = self.client.post(
            "/compute/dashboards/security/upload/",
            {"resource": self.cluster.pk, "kind": "trivy", "file": SimpleUploadedFile("bad.json", b'{"nope": 1}')},
            follow=True,
        )
        self.assertContains(response, "The report was not stored: Not a Trivy report")
        self.assertEqual(SecurityScan.objects.count(), 1)

    def test_a_member_cannot_upload_on_the_page(self):
        self.client.force_login(self.public_member)
        response = self.client.post(
            "/compute/dashboards/security/upload/",
            {
                "resource": self.cluster.pk,
                "file": SimpleUploadedFile("grype.json", (FIXTURES / "grype.json").read_bytes()),
            },
        )
        self.assertEqual(response.status_code, 403)
        self.assertFalse(SecurityScan.objects.exists())

    def test_anonymous_visitors_are_sent_to_log_in(self):
        response = self.client.get("/compute/dashboards/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/login/", response["Location"])
