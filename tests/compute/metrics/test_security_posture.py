"""Security posture: real OpenSCAP and Lynis reports, Trivy and Grype JSON in both shapes, TEE
attestations, by upload, API and watched directory; history kept; stale scans flagged."""

from __future__ import annotations

import datetime
import shutil
import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.utils import timezone

from compute.collectors.reports import parse_report
from compute.models import ReportDirectory, Resource, SecurityScan
from compute.services.metrics import security
from governance.audit import verify_chain
from governance.models import AuditEvent
from tests.base import PortalTestCase

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class ParserTests(TestCase):
    def test_it_reads_a_real_openscap_result_score_and_failed_rules_by_severity(self):
        report = parse_report(fixture("oscap-debian-all-results.xml"))
        self.assertEqual(report.kind, "openscap")
        self.assertAlmostEqual(report.score, 59.937172)
        self.assertEqual(report.score_max, 100.0)
        self.assertEqual(report.counts, {"critical": 0, "high": 1, "medium": 17, "low": 5, "unknown": 2})
        self.assertEqual(report.passed, 66)
        self.assertEqual(report.scanned_at.tzinfo is not None, True)
        self.assertEqual(report.summary["profile"], "(all)")
        sudo = next(f for f in report.findings if f["id"].endswith("sudo_add_noexec"))
        self.assertEqual(sudo["severity"], "high")
        self.assertIn("NOEXEC", sudo["title"])

    def test_it_reads_another_profile_of_the_same_scanner(self):
        report = parse_report(fixture("oscap-debian-anssi-high-results.xml"), "openscap")
        self.assertEqual(report.score, 75.0)
        self.assertEqual(sum(report.counts.values()), 2)

    def test_it_reads_a_real_lynis_report(self):
        report = parse_report(fixture("lynis-report.dat"), filename="lynis-report.dat")
        self.assertEqual(report.kind, "lynis")
        self.assertEqual(report.score, 55.0)
        self.assertEqual(report.warnings, 2)
        self.assertEqual(report.suggestions, 46)
        self.assertEqual(report.tool_version, "3.0.8")
        self.assertEqual(report.scanned_at, datetime.datetime(2026, 11, 23, 7, 28, 36, tzinfo=datetime.UTC))
        self.assertIn("PKGS-7392", [f["id"] for f in report.findings if f["type"] == "warning"])

    def test_it_reads_trivys_current_shape(self):
        report = parse_report(fixture("trivy-current.json"))
        self.assertEqual(report.kind, "trivy")
        # The repeated CVE in the same package counts once.
        self.assertEqual(report.counts, {"critical": 1, "high": 1, "medium": 2, "low": 1, "unknown": 1})
        self.assertEqual(report.scanned_at.date(), datetime.date(2026, 11, 20))
        self.assertEqual(report.summary["artifact"], "registry.example/tgb/inference:1.4")

    def test_it_reads_trivys_older_bare_list_shape(self):
        report = parse_report(fixture("trivy-legacy.json"))
        self.assertEqual(report.kind, "trivy")
        self.assertEqual(report.counts, {"critical": 2, "high": 0, "medium": 1, "low": 0, "unknown": 0})
        self.assertIsNone(report.scanned_at)

    def test_it_reads_grype_json(self):
        report = parse_report(fixture("grype.json"))
        self.assertEqual(report.kind, "grype")
        # Negligible counts with low; the duplicate match once.
        self.assertEqual(report.counts, {"critical": 1, "high": 1, "medium": 1, "low": 2, "unknown": 0})
        self.assertEqual(report.tool_version, "0.74.0")
        self.assertEqual(report.summary["target"], "registry.example/tgb/notebook:2.0")

    def test_it_reads_an_attestation_verdict(self):
        report = parse_report(fixture("attestation.json"))
        self.assertEqual(report.kind, "attestation")
        self.assertEqual(report.attestation, "verified")
        self.assertEqual(report.summary["tee"], "sev-snp")

    def test_malformed_reports_are_refused_with_a_clear_reason(self):
        cases = {
            ("openscap", b"<Benchmark><unclosed>"): "does not parse",
            ("openscap", b'<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2"/>'): "no TestResult",
            ("lynis", b"report_version_major=1\nos=Linux\n"): "hardening_index",
            ("lynis", b"hardening_index=high\n"): "whole number",
            ("trivy", b'{"SchemaVersion": 2}'): "Not a Trivy report",
            ("trivy", b'[{"Vulnerabilities": []}]'): "Target",
            ("trivy", b'{"Results": [{"Target": "x", "Vulnerabilities": [{"Severity": "HIGH"}]}]}'): "VulnerabilityID",
            ("grype", b'{"matches": [{"artifact": {}}]}'): "vulnerability id",
            ("grype", b"{not json"): "does not parse",
            ("attestation", b'{"status": "probably"}'): "status",
            (None, b"just some text"): "Cannot tell",
            (None, b"   "): "empty",
        }
        for (kind, data), reason in cases.items():
            with self.subTest(kind=kind, data=data[:30]):
                with self.assertRaisesMessage(ValidationError, reason):
                    parse_report(data, kind)

    def test_an_xml_bomb_is_refused(self):
        bomb = (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><TestResult>&lol2;</TestResult>'
        )
        with self.assertRaisesMessage(ValidationError, "does not parse"):
            parse_report(bomb, "openscap")


class SecurityReportAPITests(PortalTestCase):
    URL = "/api/security-reports/"

    def setUp(self):
        self.cluster = Resource.objects.create(name="GPU cluster", kind="gpu_cluster", capacity=8, jurisdiction="EU")

    def upload(self, user, name, kind="", data=None):
        file = SimpleUploadedFile(name, data if data is not None else fixture(name))
        payload = {"resource": self.cluster.pk, "file": file}
        if kind:
            payload["kind"] = kind
        return self.api(user).post(self.URL, payload, format="multipart")

    def test_an_administrator_uploads_each_kind_of_report(self):
        for name in (
            "oscap-debian-all-results.xml",
            "lynis-report.dat",
            "trivy-current.json",
            "trivy-legacy.json",
            "grype.json",
            "attestation.json",
        ):
            with self.subTest(name):
                response = self.upload(self.admin, name)
                self.assertEqual(response.status_code, 201, response.content)
        kinds = sorted(SecurityScan.objects.values_list("kind", flat=True))
        self.assertEqual(kinds, ["attestation", "grype", "lynis", "openscap", "trivy", "trivy"])
        self.assertTrue(verify_chain().ok)
        self.assertEqual(AuditEvent.objects.filter(verb="security_scan.ingested").count(), 6)

    def test_a_member_may_not_upload(self):
        response = self.upload(self.public_member, "grype.json")
        self.assertEqual(response.status_code, 403)
        self.assertFalse(SecurityScan.objects.exists())

    def test_a_malformed_report_is_a_400_and_nothing_is_stored(self):
        response = self.upload(self.admin, "trivy.json", kind="trivy", data=b'{"Results": [{"Vulnerabilities": []}]}')
        self.assertEqual(response.status_code, 400)
        self.assertIn("Target", response.json()["detail"])
        self.assertFalse(SecurityScan.objects.exists())
        self.assertFalse(AuditEvent.objects.filter(verb="security_scan.ingested").exists())

    def test_the_same_report_twice_is_refused_as_a_duplicate(self):
        self.assertEqual(self.upload(self.admin, "grype.json").status_code, 201)
        self.assertEqual(self.upload(self.admin, "grype.json").status_code, 400)
        self.assertEqual(SecurityScan.objects.count(), 1)

    @override_settings(SECURITY_REPORT_MAX_BYTES=1000)
    def test_an_oversize_report_is_refused(self):
        response = self.upload(self.admin, "lynis-report.dat")
        self.assertEqual(response.status_code, 413)
        self.assertFalse(SecurityScan.objects.exists())

    def test_everyone_reads_the_numbers_but_only_auditors_read_the_findings(self):
        self.upload(self.admin, "oscap-debian-all-results.xml")
        member = self.api(self.public_member).get(self.URL).json()["results"][0]
        self.assertEqual(member["high"], 1)
        self.assertIsNone(member["findings"])
        auditor = self.api(self.auditor).get(self.URL).json()["results"][0]
        self.assertEqual(len(auditor["findings"]), 25)

    def test_every_score_is_kept_so_the_trend_can_be_drawn(self):
        for days_ago, index in ((30, 48), (15, 52), (1, 61)):
            data = fixture("lynis-report.dat").replace(b"hardening_index=55", f"hardening_index={index}".encode())
            data = data.replace(
                b"report_datetime_end=2026-11-23 07:28:36",
                f"report_datetime_end={timezone.now() - datetime.timedelta(days=days_ago):%Y-%m-%d %H:%M:%S}".encode(),
            )
            self.assertEqual(self.upload(self.admin, "lynis-report.dat", data=data).status_code, 201)
        scores = list(
            SecurityScan.objects.filter(resource=self.cluster).order_by("scanned_at").values_list("score", flat=True)
        )
        self.assertEqual(scores, [48.0, 52.0, 61.0])

    @override_settings(SECURITY_SCAN_STALE_DAYS=7)
    def test_a_resource_whose_last_scan_is_old_is_stale(self):
        fresh = Resource.objects.create(name="Fresh", kind="cpu_pool", capacity=1, jurisdiction="EU")
        never = Resource.objects.create(name="Never", kind="cpu_pool", capacity=1, jurisdiction="EU")
        self.upload(self.admin, "trivy-legacy.json")  # no date inside: scanned when received
        SecurityScan.objects.filter(resource=self.cluster).update(
            scanned_at=timezone.now() - datetime.timedelta(days=9)
        )
        security.ingest_report(self.admin, resource=fresh, data=fixture("grype.json"), filename="grype.json")
        SecurityScan.objects.filter(resource=fresh).update(scanned_at=timezone.now() - datetime.timedelta(days=1))
        posture = {p["resource_name"]: p for p in self.api(self.public_member).get(f"{self.URL}posture/").json()}
        self.assertTrue(posture["GPU cluster"]["stale"])
        self.assertIn("older than 7 days", posture["GPU cluster"]["stale_reason"])
        self.assertFalse(posture["Fresh"]["stale"])
        self.assertTrue(posture["Never"]["stale"])
        self.assertEqual(posture["Never"]["stale_reason"], "Never scanned.")
        self.assertEqual(posture["Fresh"]["latest"]["grype"]["critical"], 1)
        self.assertEqual(never.pk, posture["Never"]["resource"])

    def test_a_posture_asked_for_a_resource_that_is_not_an_id_is_a_400(self):
        # It was a 500 ("Field 'id' expected a number"), found by tests/test_api_fuzz.py.
        response = self.api(self.public_member).get(f"{self.URL}posture/", {"resource": "true"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["detail"], "resource: resource is a resource id (a number).")


class WatchedDirectoryTests(PortalTestCase):
    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="tgb-reports-"))
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        self.enterContext(override_settings(SECURITY_REPORTS_ROOT=str(self.root)))
        self.cluster = Resource.objects.create(name="GPU cluster", kind="gpu_cluster", capacity=8, jurisdiction="EU")

    def test_reports_dropped_in_a_watched_directory_are_ingested_once(self):
        directory = security.watch_directory(self.admin, resource=self.cluster, path="gpu-cluster")
        (self.root / "gpu-cluster").mkdir()
        for name in ("oscap-debian-all-results.xml", "lynis-report.dat", "trivy-current.json"):
            shutil.copy(FIXTURES / name, self.root / "gpu-cluster" / name)
        (self.root / "gpu-cluster" / "broken.json").write_text('{"Results": 5}')

        self.assertEqual(security.scan_watched_directories(), 3)
        self.assertEqual(security.scan_watched_directories(), 0)

        self.assertEqual(SecurityScan.objects.filter(resource=self.cluster, origin="watched").count(), 3)
        directory.refresh_from_db()
        self.assertIn("broken.json", directory.last_error)
        self.assertIsNotNone(directory.last_checked_at)

    def test_a_watched_directory_must_lie_inside_the_reports_root(self):
        with self.assertRaisesMessage(ValidationError, "must lie inside"):
            security.watch_directory(self.admin, resource=self.cluster, path="/etc")
        with self.assertRaisesMessage(ValidationError, "must lie inside"):
            security.watch_directory(self.admin, resource=self.cluster, path="../../etc")
        self.assertFalse(ReportDirectory.objects.exists())
