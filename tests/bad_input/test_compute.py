"""The probe's cases on compute's ways in: the push ingest, the series API and credit amounts."""

from __future__ import annotations

import datetime
import json

from django.utils import timezone

from compute.models import CreditRequest, HourlyRollup, Resource, Sample
from compute.services.metrics import sources, store
from tests.base import PortalTestCase
from tests.compute.credits import CreditsTestCase


class PushIngestTests(PortalTestCase):
    def setUp(self):
        self.cluster = Resource.objects.create(name="Edge GPU rack", kind="gpu_cluster", capacity=4, jurisdiction="EU")
        self.source = sources.create_source(self.admin, name="Edge agent", kind="push", resource=self.cluster)
        self.now = timezone.now().replace(microsecond=0)

    def push(self, body):
        data = body if isinstance(body, str) else json.dumps(body)
        return self.api().generic(
            "POST",
            "/api/metrics/ingest/",
            data,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {self.source.plain_token}",
        )

    def sample(self, value, metric="DCGM_FI_DEV_GPU_UTIL", time=None):
        return {"samples": [{"metric": metric, "time": time or self.now.isoformat(), "value": value}]}

    def assert_refused(self, response, words):
        assert response.status_code == 400, response.content
        assert words in json.dumps(response.json()), response.json()
        assert not Sample.objects.filter(resource=self.cluster).exists()
        assert not HourlyRollup.objects.filter(resource=self.cluster).exists()

    def test_a_value_of_1_7e308_is_refused_and_the_rollups_stay_finite(self):
        self.assert_refused(self.push(self.sample(1.7e308, metric="DCGM_FI_DEV_POWER_USAGE")), "plausible range")

    def test_a_gpu_utilization_above_100_percent_is_refused(self):
        self.assert_refused(self.push(self.sample(150)), "plausible range")

    def test_json_nested_20000_deep_is_refused(self):
        deep = '{"samples": ' + "[" * 20_000 + "]" * 20_000 + "}"
        self.assert_refused(self.push(deep), "deeper")

    def test_a_nul_in_a_pushed_metric_is_refused(self):
        self.assert_refused(self.push(self.sample(1, metric="gpu\x00util")), "NUL")

    def test_times_out_of_range_are_refused(self):
        for time in (1e20, -1e20, "0001-01-01T00:00:00+01:00", "1970-01-01T00:00:00Z", "2026-02-30T00:00:00Z"):
            self.assert_refused(self.push(self.sample(1, time=time)), "samples[0]")

    def test_a_plausible_batch_is_still_stored(self):
        response = self.push(self.sample(42.5))
        assert response.status_code == 202, response.content

    def test_the_store_drops_readings_whose_rollups_could_overflow_from_any_collector(self):
        rows = [("DCGM_FI_DEV_POWER_USAGE", self.now, 1.7e308), ("DCGM_FI_DEV_GPU_UTIL", self.now, 5.0)]
        store.save(self.cluster.pk, rows)
        assert Sample.objects.filter(resource=self.cluster).count() == 1


class SeriesRangeTests(PortalTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.node = Resource.objects.create(name="Node", kind="gpu_cluster", capacity=8, jurisdiction="EU")

    def get(self, **params):
        query = {"resource": self.node.pk, "metric": "DCGM_FI_DEV_GPU_UTIL", **params}
        return self.api(self.admin).get("/api/metrics/series/", query)

    def test_hostile_ranges_are_bad_input(self):
        for params in (
            {"start": "inf"},
            {"end": "1e20"},
            {"start": "-1e20"},
            {"end": "nan"},
            {"step": str(10**30)},
            {"step": "²"},
            {"step": "1e3"},
            {"start": "2026-02-30"},
            {"start": "2026-01-01T00:00:00+25:00"},
            {"start": "0001-01-01T00:00:00Z"},
            {"end": "9999-12-31T23:59:59Z"},
            {"start": "0001-01-01T00:00:00+01:00"},
            {"resource": "9" * 24},
            {"resource": "²"},
            {"resource": "\u0661"},
        ):
            response = self.get(**params)
            assert response.status_code == 400, (params, response.content)
            assert response.json()["detail"], params

    def test_a_good_range_still_answers(self):
        response = self.get(start=(timezone.now() - datetime.timedelta(hours=2)).isoformat(), step="60")
        assert response.status_code == 200, response.content


class CreditAmountTests(CreditsTestCase):
    def post_request(self, amount):
        return self.api(self.staff).post(
            "/api/credit-requests/",
            {
                "charter": self.charter.pk,
                "resource": self.gpu.pk,
                "pool": self.pool.pk,
                "amount": amount,
                "justification": "Ensemble forecasts.",
            },
            format="json",
        )

    def test_amounts_in_other_scripts_digits_are_refused(self):
        before = CreditRequest.objects.count()
        for amount in ("\u0661\u0662\u0663", "\uff11\uff12", "²"):
            response = self.post_request(amount)
            assert response.status_code == 400, (amount, response.content)
        assert CreditRequest.objects.count() == before

    def test_amounts_beyond_the_ceiling_or_precision_are_refused(self):
        for amount in ("1000000000000.0001", "99999999999999", "0.00001", "NaN", "Infinity", "-5"):
            response = self.post_request(amount)
            assert response.status_code == 400, (amount, response.content)
