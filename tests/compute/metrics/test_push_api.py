"""Agents push batches of samples to /api/metrics/ingest/ with their source's token."""

from __future__ import annotations

import datetime
import json

from django.test import override_settings
from django.utils import timezone

from compute.models import HourlyRollup, MetricSource, Resource, Sample
from compute.services.metrics import sources
from tests.base import PortalTestCase

URL = "/api/metrics/ingest/"


class PushAPITests(PortalTestCase):
    def setUp(self):
        self.cluster = Resource.objects.create(name="Edge GPU rack", kind="gpu_cluster", capacity=4, jurisdiction="EU")
        self.source = sources.create_source(self.admin, name="Edge agent", kind="push", resource=self.cluster)
        self.token = self.source.plain_token
        self.now = timezone.now().replace(microsecond=0)

    def push(self, body, token=None, **extra):
        client = self.api()
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token or self.token}"} if token != "" else {}
        return client.generic("POST", URL, data, content_type="application/json", **headers, **extra)

    def batch(self, n=3, metric="DCGM_FI_DEV_GPU_UTIL"):
        return {
            "samples": [
                {"metric": metric, "time": (self.now - datetime.timedelta(minutes=i)).isoformat(), "value": 40.0 + i}
                for i in range(n)
            ]
        }

    def test_an_agent_with_its_token_stores_its_samples(self):
        response = self.push(self.batch(3))
        self.assertEqual(response.status_code, 202, response.content)
        self.assertEqual(response.json(), {"accepted": 3, "stored": 3, "missing": 0, "too_old": 0})
        self.assertEqual(Sample.objects.filter(resource=self.cluster).count(), 3)
        self.assertTrue(HourlyRollup.objects.filter(resource=self.cluster).exists())
        self.source.refresh_from_db()
        self.assertIsNotNone(self.source.last_success_at)

    def test_pushing_the_same_batch_twice_stores_it_once(self):
        self.push(self.batch(5))
        self.push(self.batch(5))
        self.assertEqual(Sample.objects.filter(resource=self.cluster).count(), 5)

    def test_missing_and_nan_values_are_counted_but_never_stored_as_zero(self):
        body = {
            "samples": [
                {"metric": "DCGM_FI_DEV_POWER_USAGE", "time": self.now.isoformat(), "value": None},
                {
                    "metric": "DCGM_FI_DEV_POWER_USAGE",
                    "time": (self.now - datetime.timedelta(minutes=1)).isoformat(),
                    "value": "NaN",
                },
                {"metric": "DCGM_FI_DEV_POWER_USAGE", "time": int(self.now.timestamp()) - 120, "value": "310.5"},
            ]
        }
        response = self.push(body)
        self.assertEqual(response.status_code, 202, response.content)
        self.assertEqual(response.json()["missing"], 2)
        self.assertEqual(list(Sample.objects.values_list("value", flat=True)), [310.5])

    def test_a_missing_token_is_asked_for(self):
        response = self.push(self.batch(), token="")
        self.assertEqual(response.status_code, 401)
        self.assertIn("Bearer", response["WWW-Authenticate"])
        self.assertFalse(Sample.objects.exists())

    def test_a_wrong_token_is_refused(self):
        response = self.push(self.batch(), token="tgbm_not-a-real-token")
        self.assertEqual(response.status_code, 401)
        self.assertIn("Unknown metric source token", response.json()["detail"])
        self.assertFalse(Sample.objects.exists())

    def test_a_user_api_token_is_not_a_source_token(self):
        response = self.api(self.staff).post(URL, self.batch(), format="json")
        self.assertEqual(response.status_code, 401)
        self.assertFalse(Sample.objects.exists())

    def test_the_token_of_a_disabled_source_is_forbidden(self):
        sources.update_source(self.admin, self.source, enabled=False)
        response = self.push(self.batch())
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Sample.objects.exists())

    def test_a_rotated_token_stops_working_at_once(self):
        response = self.api(self.admin).post(f"/api/metric-sources/{self.source.pk}/rotate-token/")
        self.assertEqual(response.status_code, 200, response.content)
        new_token = response.json()["token"]
        self.assertEqual(self.push(self.batch(), token=self.token).status_code, 401)
        self.assertEqual(self.push(self.batch(), token=new_token).status_code, 202)

    def test_a_malformed_batch_is_refused_whole_with_nothing_stored(self):
        good = self.batch(3)["samples"]
        cases = {
            "not json": b"{samples: [",
            "no samples list": {"data": []},
            "empty": {"samples": []},
            "bad metric name": {"samples": [*good, {"metric": "gpu util!", "time": self.now.isoformat(), "value": 1}]},
            "no offset": {"samples": [*good, {"metric": "x", "time": "2026-01-01T00:00:00", "value": 1}]},
            "future": {
                "samples": [
                    *good,
                    {"metric": "x", "time": (self.now + datetime.timedelta(hours=1)).isoformat(), "value": 1},
                ]
            },
            "text value": {"samples": [*good, {"metric": "x", "time": self.now.isoformat(), "value": "high"}]},
            "boolean value": {"samples": [*good, {"metric": "x", "time": self.now.isoformat(), "value": True}]},
            "no value": {"samples": [*good, {"metric": "x", "time": self.now.isoformat()}]},
            "unknown field": {"samples": [*good, {"metric": "x", "time": self.now.isoformat(), "value": 1, "gpu": 0}]},
        }
        for name, body in cases.items():
            with self.subTest(name):
                response = self.push(body)
                self.assertEqual(response.status_code, 400, response.content)
                self.assertTrue(response.json()["detail"])
        self.assertFalse(Sample.objects.exists())
        self.assertFalse(HourlyRollup.objects.exists())

    @override_settings(METRICS_PUSH_MAX_BYTES=2000)
    def test_an_oversize_body_is_refused(self):
        response = self.push(self.batch(40))
        self.assertEqual(response.status_code, 413, response.content)
        self.assertFalse(Sample.objects.exists())

    @override_settings(METRICS_PUSH_MAX_SAMPLES=10)
    def test_a_batch_with_too_many_samples_is_refused(self):
        response = self.push(self.batch(11))
        self.assertEqual(response.status_code, 400)
        self.assertIn("At most 10 samples", response.json()["detail"])
        self.assertFalse(Sample.objects.exists())

    def test_the_token_is_only_kept_as_a_hash(self):
        stored = MetricSource.objects.get(pk=self.source.pk)
        self.assertNotIn(self.token, stored.token_hash)
        listed = self.api(self.admin).get(f"/api/metric-sources/{self.source.pk}/").json()
        self.assertIsNone(listed["token"])
        self.assertNotIn("token_hash", listed)


class MetricsSchemaTests(PortalTestCase):
    def test_the_schema_describes_the_metrics_endpoints(self):
        self.client.force_login(self.public_member)
        response = self.client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        self.assertEqual(response.status_code, 200)
        schema = response.json()
        for path in (
            "/api/metric-sources/",
            "/api/metrics/ingest/",
            "/api/metrics/series/",
            "/api/security-reports/",
            "/api/security-reports/posture/",
        ):
            self.assertIn(path, schema["paths"])
        self.assertEqual(schema["components"]["securitySchemes"]["sourceToken"]["scheme"], "bearer")
