"""Usage attribution: GPU-hours per charter per resource per hour, the rows the ledger's
post_usage takes (idempotent on source, resource, charter, hour)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from compute.collectors.prometheus import Series
from compute.models import Resource, UsageAttribution
from compute.services.metrics import attribution, sources
from tests.base import PortalTestCase

HOUR = datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC)


def gpus(label_value, counts, step=60, start=HOUR):
    """A `count by (project)` series: counts[i] GPUs at start + i*step (None = no scrape)."""
    points = [(start + datetime.timedelta(seconds=i * step), float(c)) for i, c in enumerate(counts) if c is not None]
    return Series(labels={"project": label_value}, points=points)


class UsageRowTests(PortalTestCase):
    def rows(self, series, charters, step=60):
        return attribution.usage_rows(
            series, source_key="metric-source:1", resource_id=7, step=step, label="project", charters=charters
        )

    def test_gpus_held_for_a_whole_hour_are_that_many_gpu_hours(self):
        rows, unmatched = self.rows([gpus("alpha", [4] * 60)], {"alpha": 11})
        self.assertEqual(rows, [attribution.UsageRow("metric-source:1", 7, 11, HOUR, Decimal("4.0000"))])
        self.assertEqual(unmatched, set())

    def test_usage_is_split_at_the_top_of_the_hour(self):
        rows, _ = self.rows([gpus("alpha", [2] * 90)], {"alpha": 11})
        self.assertEqual(
            [(r.hour, r.unit_hours) for r in rows],
            [(HOUR, Decimal("2.0000")), (HOUR + datetime.timedelta(hours=1), Decimal("1.0000"))],
        )

    def test_a_missing_scrape_charges_nothing_for_its_step(self):
        rows, _ = self.rows([gpus("alpha", [1] * 30 + [None] * 30)], {"alpha": 11})
        self.assertEqual(rows[0].unit_hours, Decimal("0.5000"))

    def test_unknown_label_values_are_reported_not_charged(self):
        rows, unmatched = self.rows([gpus("alpha", [1] * 60), gpus("gamma", [3] * 60)], {"alpha": 11})
        self.assertEqual([r.charter_id for r in rows], [11])
        self.assertEqual(unmatched, {"gamma"})

    def test_label_values_map_to_charters_by_explicit_mapping_or_id(self):
        from charters.models import Charter

        charter = Charter.objects.create(
            committee=self.committee,
            title="Flood forecasting",
            summary="-",
            lead_organization=self.orgs.ministry,
            ip_framework="joint_pool",
            created_by=self.staff,
        )
        cluster = Resource.objects.create(name="GPU", kind="gpu_cluster", capacity=8, jurisdiction="EU")
        source = sources.create_source(
            self.admin,
            name="DCGM",
            kind="prometheus",
            url="http://prometheus.invalid:9090",
            resource=cluster,
            charter_label="project",
            charter_map={"floods": charter.pk},
        )
        lookup = attribution.charter_lookup(source, {"floods", str(charter.pk), "999999", "not-a-charter"})
        self.assertEqual(lookup, {"floods": charter.pk, str(charter.pk): charter.pk})

    def test_saved_rows_are_idempotent_on_their_key(self):
        from charters.models import Charter

        charter = Charter.objects.create(
            committee=self.committee,
            title="Flood forecasting",
            summary="-",
            lead_organization=self.orgs.ministry,
            ip_framework="joint_pool",
            created_by=self.staff,
        )
        cluster = Resource.objects.create(name="GPU", kind="gpu_cluster", capacity=8, jurisdiction="EU")
        source = sources.create_source(
            self.admin, name="DCGM", kind="prometheus", url="http://prometheus.invalid:9090", resource=cluster
        )
        row = attribution.UsageRow(
            attribution.ledger_source_key(source), cluster.pk, charter.pk, HOUR, Decimal("3.5000")
        )
        attribution.save_attribution(source, [row])
        attribution.save_attribution(source, [row])
        self.assertEqual(UsageAttribution.objects.get().unit_hours, Decimal("3.5000"))
