"""Every charters API resource: who may read, who may write, and what a list costs."""

from __future__ import annotations

import datetime

from django.utils import timezone

from charters.services import agreements, lifecycle
from tests.api_checks import APIResourceChecks
from tests.charters.base import CharterTestCase, FewRowsFirst


class CharterAPITests(FewRowsFirst, APIResourceChecks, CharterTestCase):
    url = "/api/charters/"
    allowed_reader = "private_member"
    refused_writer = "private_member"
    allowed_writer = "staff"

    def make_object(self, n):
        agreement = self.agreement(title=f"Agreement {n}")
        return lifecycle.submit(self.staff, self.draft(title=f"Charter {n}", data_use_agreements=[agreement]))

    def create_payload(self):
        return {
            "committee": self.committee.pk,
            "lead_organization": self.orgs.council.pk,
            "title": "Open weather model",
            "summary": "A weather model for farmers.",
            "ip_framework": "government_owned",
            "data_classification": "public",
            "allowed_jurisdictions": ["EU"],
            "participating_organizations": [self.orgs.northwind.pk],
            "resources": [self.eu_cluster.pk],
        }

    def update_payload(self):
        return {"title": "Open weather model for farmers"}

    def test_a_draft_is_created_by_the_staff_member_for_their_organization(self):
        response = self.api(self.staff).post(self.url, self.create_payload(), format="json")
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual((body["status"], body["created_by"], body["lead_sector"]), ("draft", self.staff.pk, "public"))
        self.assertEqual(body["transitions"], ["submit"])

    def test_privately_retained_ip_needs_licence_terms_and_the_governments_royalty_free_use(self):
        payload = {**self.create_payload(), "ip_framework": "private_licensed", "government_royalty_free_use": False}
        response = self.api(self.staff).post(self.url, payload, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(set(response.json()["errors"]), {"licence_terms", "government_royalty_free_use"})

    def test_sensitive_data_needs_an_allowed_jurisdiction(self):
        payload = {**self.create_payload(), "data_classification": "sensitive", "allowed_jurisdictions": []}
        response = self.api(self.staff).post(self.url, payload, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("allowed_jurisdictions", response.json()["errors"])

    def test_the_list_filters_by_status_lead_sector_ip_model_and_classification(self):
        submitted = self.make_object(1)
        private = lifecycle.submit(
            self.private_staff,
            self.draft(
                author=self.private_staff,
                title="Grid",
                ip_framework="private_licensed",
                licence_terms="Non-exclusive licence to members.",
                data_classification="internal",
                participating_organizations=[],
            ),
        )
        client = self.api(self.public_member)

        def ids(query):
            return {row["id"] for row in client.get(f"{self.url}?{query}").json()["results"]}

        self.assertEqual(ids("lead_sector=private"), {private.pk})
        self.assertEqual(ids("ip_framework=joint_pool"), {submitted.pk})
        self.assertEqual(ids("data_classification=internal"), {private.pk})
        self.assertEqual(ids("status=submitted"), {submitted.pk, private.pk})
        self.assertEqual(ids("status=approved"), set())

    def test_the_review_path_through_the_api(self):
        charter = self.make_object(1)
        self.assertEqual(self.api(self.secretary).post(f"{self.url}{charter.pk}/start_review/").status_code, 200)
        response = self.api(self.public_chair).post(
            f"{self.url}{charter.pk}/reviews/",
            {"kind": "bias_audit", "verdict": "failed", "notes": "No fairness thresholds."},
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["version"], 1)
        readiness = self.api(self.public_member).get(f"{self.url}{charter.pk}/readiness/").json()
        self.assertIn("The bias audit plan review of version 1 failed.", readiness["ballot_problems"])
        self.assertIn(
            "is not signed by Helios Compute and National Research Council.", " ".join(readiness["ballot_problems"])
        )


class AgreementAPITests(FewRowsFirst, APIResourceChecks, CharterTestCase):
    url = "/api/data-use-agreements/"
    refused_writer = "outsider"
    allowed_writer = "staff"

    def make_object(self, n):
        return self.agreement(title=f"Agreement {n}", signed_by=[self.staff] if n % 2 else [])

    def create_payload(self):
        return {
            "title": "Grid telemetry for forecasting",
            "purpose": "Forecast load.",
            "parties": [self.orgs.council.pk, self.orgs.helios.pk],
            "datasets": [self.grid_telemetry.pk],
            "anonymization_standard": "aggregated",
            "insights_owner": "joint",
            "audit_rights": "Either party, yearly.",
            "expires_on": (timezone.localdate() + datetime.timedelta(days=200)).isoformat(),
        }

    def update_payload(self):
        return {"purpose": "Forecast load and outages."}

    def test_each_party_signs_through_the_api_and_the_state_follows(self):
        agreement = self.agreement()
        response = self.api(self.staff).post(f"{self.url}{agreement.pk}/sign/")
        self.assertEqual(response.status_code, 201, response.content)
        body = self.api(self.public_member).get(f"{self.url}{agreement.pk}/").json()
        self.assertEqual((body["state"], body["unsigned_parties"]), ("Partly signed", [self.orgs.helios.pk]))
        self.assertEqual(self.api(self.public_chair).post(f"{self.url}{agreement.pk}/sign/").status_code, 403)
        self.assertEqual(self.api(self.private_staff).post(f"{self.url}{agreement.pk}/sign/").status_code, 201)
        self.assertEqual(self.api(self.private_member).post(f"{self.url}{agreement.pk}/sign/").status_code, 409)
        self.assertEqual(self.api(self.public_member).get(f"{self.url}{agreement.pk}/").json()["state"], "In force")

    def test_an_agreement_must_expire_after_today(self):
        payload = {**self.create_payload(), "expires_on": timezone.localdate().isoformat()}
        response = self.api(self.staff).post(self.url, payload, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("expires_on", response.json()["errors"])

    def test_an_id_past_64_bits_in_a_to_many_filter_is_a_400(self):
        # SQLite's driver raised OverflowError on it (a 500), found by tests/test_api_fuzz.py.
        response = self.api(self.staff).get(self.url, {"charters": [1, -(2**70)], "datasets": 2**64})
        self.assertEqual(response.status_code, 400)
        self.assertIn("is not one of the available choices", response.json()["detail"])


class DatasetAPITests(APIResourceChecks, CharterTestCase):
    url = "/api/datasets/"
    refused_writer = "outsider"
    allowed_writer = "staff"

    def make_object(self, n):
        return agreements.create_dataset(self.admin, name=f"Dataset {n}", steward=self.orgs.helios, jurisdiction="EU")

    def create_payload(self):
        return {
            "name": "Census extracts",
            "steward": self.orgs.council.pk,
            "jurisdiction": "EU",
            "classification": "internal",
        }

    def update_payload(self):
        return {"description": "Yearly extracts."}

    def test_staff_list_only_their_own_organizations_datasets(self):
        payload = {**self.create_payload(), "steward": self.orgs.helios.pk}
        self.assertEqual(self.api(self.staff).post(self.url, payload, format="json").status_code, 403)
