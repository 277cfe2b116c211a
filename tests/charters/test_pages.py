"""The charters pages, read and used as people do."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from charters import selectors
from charters.choices import DataClassification
from charters.models import Charter
from charters.services import agreements, amendments, lifecycle
from tests.charters.base import CharterTestCase


class CharterListPageTests(CharterTestCase):
    def test_the_list_costs_the_same_queries_for_few_and_many_charters(self):
        self.client.force_login(self.public_member)
        lifecycle.submit(self.staff, self.draft(title="First"))
        self.client.get("/charters/")
        with CaptureQueriesContext(connection) as few:
            self.assertEqual(self.client.get("/charters/").status_code, 200)
        for n in range(12):
            lifecycle.submit(
                self.staff,
                self.draft(title=f"Charter {n}", participating_organizations=[self.orgs.helios, self.orgs.northwind]),
            )
        with self.assertNumQueries(len(few)):
            response = self.client.get("/charters/")
        self.assertContains(response, "Charter 11")

    def test_the_list_shows_fifty_charters_a_page_and_keeps_the_filters_in_its_links(self):
        for n in range(51):
            Charter.objects.create(
                committee=self.committee,
                title=f"Archived charter {n:02d}",
                summary="An old project.",
                lead_organization=self.orgs.council,
                ip_framework="joint_pool",
                status="completed",
                created_by=self.staff,
            )
        self.client.force_login(self.public_member)
        with CaptureQueriesContext(connection) as queries:
            first = self.client.get("/charters/?status=completed")
        self.assertContains(first, "51 charters, 1 to 50 shown")
        self.assertContains(first, "Archived charter 50")  # newest first
        self.assertNotContains(first, "Archived charter 00<")
        self.assertContains(first, 'href="?status=completed&amp;page=2" rel="next"')
        with self.assertNumQueries(len(queries)):
            second = self.client.get("/charters/?status=completed&page=2")
        self.assertContains(second, "51 charters, 51 to 51 shown")
        self.assertContains(second, "Archived charter 00<")
        self.assertContains(second, 'href="?status=completed&amp;page=1" rel="prev"')

    def test_the_list_filters_by_status_lead_sector_ip_model_and_classification(self):
        council = lifecycle.submit(self.staff, self.draft(title="Council triage"))
        helios = lifecycle.submit(
            self.private_staff,
            self.draft(
                author=self.private_staff,
                title="Helios grid",
                ip_framework="private_licensed",
                licence_terms="Non-exclusive.",
                data_classification="internal",
                participating_organizations=[],
            ),
        )
        self.client.force_login(self.public_member)
        for query, shown, hidden in [
            ("lead_sector=private", helios, council),
            ("ip_framework=joint_pool", council, helios),
            ("data_classification=internal", helios, council),
        ]:
            with self.subTest(query=query):
                response = self.client.get(f"/charters/?{query}")
                self.assertContains(response, shown.title)
                self.assertNotContains(response, hidden.title)
        self.assertContains(self.client.get("/charters/?status=approved"), "No charter matches.")

    def test_drafts_of_other_organizations_are_not_listed(self):
        self.draft(title="Council secret draft")
        self.client.force_login(self.private_staff)
        self.assertNotContains(self.client.get("/charters/"), "Council secret draft")


class CharterFormPageTests(CharterTestCase):
    def test_staff_draft_a_charter_on_the_form_page(self):
        self.client.force_login(self.staff)
        response = self.client.post(
            "/charters/new/",
            {
                "committee": self.committee.pk,
                "title": "Flood forecasting",
                "summary": "Forecast floods a week ahead.",
                "ip_framework": "government_owned",
                "data_classification": "public",
                "allowed_jurisdictions": "EU, UK",
                "requested_credits": "1200",
                "government_royalty_free_use": "on",
                "participating_organizations": [self.orgs.northwind.pk],
            },
        )
        charter = Charter.objects.get(title="Flood forecasting")
        self.assertRedirects(response, f"/charters/{charter.pk}/")
        self.assertEqual((charter.lead_organization, charter.allowed_jurisdictions), (self.orgs.council, ["EU", "UK"]))

    def test_the_form_explains_what_is_wrong(self):
        self.client.force_login(self.staff)
        response = self.client.post(
            "/charters/new/",
            {
                "committee": self.committee.pk,
                "title": "Licensed assistant",
                "summary": "An assistant for caseworkers.",
                "ip_framework": "private_licensed",
                "data_classification": "restricted",
                "allowed_jurisdictions": "",
                "requested_credits": "-5",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Privately retained IP needs the licence terms granted to the partnership.")
        self.assertContains(response, "Under privately retained IP the government receives a royalty-free licence")
        self.assertContains(response, "Restricted data needs at least one allowed jurisdiction")
        self.assertContains(response, "Ensure this value is greater than or equal to 0")
        self.assertContains(response, 'role="alert"')
        self.assertFalse(Charter.objects.filter(title="Licensed assistant").exists())

    def test_naming_an_agreement_that_does_not_bind_a_party_is_explained_on_the_form(self):
        agreement = self.agreement(parties=[self.orgs.council], datasets=[self.health_records])
        self.client.force_login(self.staff)
        response = self.client.post(
            "/charters/new/",
            {
                "committee": self.committee.pk,
                "title": "T",
                "summary": "S",
                "ip_framework": "joint_pool",
                "data_classification": "internal",
                "requested_credits": "0",
                "government_royalty_free_use": "on",
                "participating_organizations": [self.orgs.helios.pk],
                "data_use_agreements": [agreement.pk],
            },
        )
        self.assertContains(response, "does not bind Helios Compute")

    def test_a_private_staff_member_cannot_open_the_edit_page_of_another_organizations_draft(self):
        charter = lifecycle.submit(self.staff, self.draft())
        self.client.force_login(self.private_staff)
        self.assertEqual(self.client.get(f"/charters/{charter.pk}/edit/").status_code, 403)


class CharterPageTests(CharterTestCase):
    def test_the_charter_page_shows_parties_reviews_agreements_versions_and_models(self):
        agreement = self.agreement(signed_by=[self.staff])
        charter = self.under_review(self.draft(data_use_agreements=[agreement]))
        self.client.force_login(self.public_chair)
        response = self.client.get(f"/charters/{charter.pk}/")
        for text in (
            "Parties by sector",
            "National Research Council (lead)",
            "Helios Compute",
            "Technical reviews of version 1",
            "Record this review",
            "Not ready for a ballot",
            "is not signed by Helios Compute",
            "Partly signed",
            "Versions",
            "Models produced",
            "Ballots",
            "Sovereign GPU cluster",
        ):
            self.assertContains(response, text)

    def test_the_charter_page_costs_the_same_queries_however_many_parties_have_signed(self):
        agreement = self.agreement()
        charter = self.under_review(self.draft(data_use_agreements=[agreement]))
        self.client.force_login(self.public_chair)
        self.client.get(f"/charters/{charter.pk}/")
        with CaptureQueriesContext(connection) as unsigned:
            self.assertContains(self.client.get(f"/charters/{charter.pk}/"), "nobody")
        agreements.sign_agreement(self.staff, agreement)
        agreements.sign_agreement(self.private_staff, agreement)
        with self.assertNumQueries(len(unsigned)):
            response = self.client.get(f"/charters/{charter.pk}/")
        self.assertContains(response, "National Research Council, Helios Compute")

    def test_the_secretary_starts_the_review_from_the_page(self):
        charter = lifecycle.submit(self.staff, self.draft())
        self.client.force_login(self.secretary)
        page = self.client.get(f"/charters/{charter.pk}/")
        self.assertContains(page, "Start review")
        response = self.client.post(f"/charters/{charter.pk}/steps/start_review/", follow=True)
        self.assertContains(response, "the charter is now under review")
        self.assertEqual(self.refreshed(charter).status, "under_review")

    def test_both_co_chairs_suspend_from_the_page(self):
        charter = self.active()
        self.client.force_login(self.public_chair)
        page = self.client.get(f"/charters/{charter.pk}/")
        self.assertContains(page, "Ask to suspend")
        response = self.client.post(f"/charters/{charter.pk}/steps/suspend/", {"reason": "Incident."}, follow=True)
        self.assertContains(response, "Your request to suspend the charter is recorded")
        self.assertContains(response, "Withdraw my request to suspend")
        self.assertEqual(self.refreshed(charter).status, "active")
        self.client.force_login(self.private_chair)
        self.assertContains(self.client.get("/"), "asks to suspend (“Incident.”)")
        page = self.client.get(f"/charters/{charter.pk}/")
        self.assertContains(page, "(Public co-chair) asked to suspend")
        self.assertContains(page, "“Incident.”")
        response = self.client.post(f"/charters/{charter.pk}/steps/suspend/", {"reason": "Agreed."}, follow=True)
        self.assertContains(response, "the charter is now suspended")

    def test_a_refused_step_comes_back_as_a_message(self):
        charter = self.active()
        self.client.force_login(self.public_chair)
        response = self.client.post(f"/charters/{charter.pk}/steps/suspend/", {"reason": ""}, follow=True)
        self.assertContains(response, "Say why the charter is suspended.")
        self.client.force_login(self.staff)
        response = self.client.post(f"/charters/{charter.pk}/steps/submit/", follow=True)
        self.assertContains(response, "it can go to: completed, suspended, terminated")

    def test_a_reviewer_records_a_review_on_its_page(self):
        charter = self.under_review(self.draft())
        self.client.force_login(self.public_chair)
        page = self.client.get(f"/charters/{charter.pk}/reviews/data_sovereignty/")
        self.assertContains(page, "Checked by the portal")
        response = self.client.post(
            f"/charters/{charter.pk}/reviews/data_sovereignty/",
            {"verdict": "passed", "item_transfers_documented": "on"},
        )
        self.assertContains(response, "A review passes only when every checklist item is met")
        response = self.client.post(
            f"/charters/{charter.pk}/reviews/data_sovereignty/",
            {"verdict": "passed", "item_transfers_documented": "on", "item_retention_defined": "on"},
        )
        self.assertRedirects(response, f"/charters/{charter.pk}/")
        self.assertEqual(selectors.pending_version(charter).reviews.get().verdict, "passed")

    def test_the_diff_page_marks_removed_and_added_words(self):
        charter = self.active()
        amendments.propose_amendment(
            self.staff, charter, change_note="Wider scope.", summary="A triage model for clinics."
        )
        self.client.force_login(self.private_member)
        response = self.client.get(f"/charters/{charter.pk}/diff/?from=1&to=2")
        self.assertContains(response, "What changed from version 1 to version 2")
        self.assertContains(response, '<del><span class="visually-hidden">[removed: </span>')
        self.assertContains(response, "clinics.")
        self.assertContains(self.client.get(f"/charters/{charter.pk}/versions/1/"), "Federated triage model")

    def test_the_ip_comparison_follows_the_guide(self):
        self.client.force_login(self.outsider)
        response = self.client.get("/charters/ip-frameworks/")
        for text in (
            "Exclusively held by the public entity",
            "Governed by a pre-negotiated consortium agreement",
            "government receives a royalty-free licence for public use",
            "12–18 months",
            "Pre-competitive R&amp;D",
            "Not stated in the guide",
        ):
            self.assertContains(response, text)


class AgreementPageTests(CharterTestCase):
    def test_a_party_signs_on_the_agreement_page(self):
        agreement = self.agreement(signed_by=[self.staff])
        self.client.force_login(self.private_staff)
        page = self.client.get(f"/charters/agreements/{agreement.pk}/")
        self.assertContains(page, "Sign for Helios Compute")
        self.assertContains(page, "Not signed")
        response = self.client.post(f"/charters/agreements/{agreement.pk}/sign/", follow=True)
        self.assertContains(response, "Signed for Helios Compute")
        self.assertContains(response, "In force")

    def test_the_agreements_list_shows_who_has_not_signed(self):
        self.agreement(signed_by=[self.staff])
        self.client.force_login(self.auditor)
        response = self.client.get("/charters/agreements/")
        self.assertContains(response, "Partly signed")
        self.assertContains(response, "Hospital discharge records")

    def test_staff_draft_an_agreement_on_its_form(self):
        self.client.force_login(self.private_staff)
        response = self.client.post(
            "/charters/agreements/new/",
            {
                "title": "Telemetry",
                "purpose": "Forecasting.",
                "parties": [self.orgs.helios.pk],
                "datasets": [self.health_records.pk],
                "anonymization_standard": "aggregated",
                "insights_owner": "joint",
                "audit_rights": "Yearly.",
                "expires_on": "2099-01-01",
            },
        )
        self.assertContains(response, "The steward of Hospital discharge records must be a party")

    def test_the_terms_are_edited_until_the_first_signature(self):
        agreement = self.agreement()
        self.client.force_login(self.staff)
        page = self.client.get(f"/charters/agreements/{agreement.pk}/edit/")
        self.assertEqual(page.status_code, 200)
        data = {
            "title": agreement.title,
            "purpose": "Train the triage model only.",
            "parties": [self.orgs.council.pk, self.orgs.helios.pk],
            "datasets": [self.health_records.pk],
            "anonymization_standard": "k_anonymity",
            "insights_owner": "joint",
            "audit_rights": "Twice a year.",
            "expires_on": agreement.expires_on.isoformat(),
        }
        self.assertRedirects(
            self.client.post(f"/charters/agreements/{agreement.pk}/edit/", data),
            f"/charters/agreements/{agreement.pk}/",
        )
        agreement.refresh_from_db()
        self.assertEqual(agreement.purpose, "Train the triage model only.")
        agreements.sign_agreement(self.staff, agreement)
        response = self.client.post(f"/charters/agreements/{agreement.pk}/edit/", data, follow=True)
        self.assertContains(response, "Signed agreements do not change")


class HomePanelTests(CharterTestCase):
    def test_the_home_page_shows_my_drafts_and_what_waits_for_me(self):
        self.draft(title="My draft")
        lifecycle.submit(self.staff, self.draft(title="Waiting for review"))
        self.agreement(signed_by=[self.staff])
        self.client.force_login(self.staff)
        self.assertContains(self.client.get("/"), "My draft")
        self.client.force_login(self.secretary)
        self.assertContains(self.client.get("/"), "Waiting for review")
        self.client.force_login(self.private_staff)
        self.assertContains(self.client.get("/"), "Agreements waiting for Helios Compute")


class EarlyWarningTests(CharterTestCase):
    def test_a_draft_warns_of_a_resource_abroad_and_restricted_data_off_trusted_execution(self):
        charter = self.draft(
            data_classification=DataClassification.RESTRICTED, resources=[self.eu_cluster, self.us_cluster]
        )
        self.client.force_login(self.staff)
        page = self.client.get(f"/charters/{charter.pk}/")
        self.assertContains(page, "Before you submit:")
        self.assertContains(page, "The resource Overseas GPU pool is in US, outside the allowed jurisdictions (EU).")
        self.assertContains(
            page, "The resource Overseas GPU pool is not TEE-capable, and the charter&#x27;s data is restricted."
        )
        # Nothing to warn of on a draft within the rules, and nothing shown to those who cannot edit it.
        self.assertNotContains(
            self.client.get(f"/charters/{self.draft(title='Within the rules').pk}/"), "Before you submit:"
        )
