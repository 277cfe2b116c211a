"""Standard operating procedures: versioned texts adopted by a double supermajority ballot."""

from __future__ import annotations

from governance import services
from governance.choices import Outcome, SOPCategory, SOPVersionStatus, SubjectType, VotingMethod
from governance.exceptions import DomainError
from governance.models import AuditEvent, SOPVersion
from tests.api_checks import APIResourceChecks
from tests.governance.ballot_support import BallotTestCase
from tests.support.ballots import close_by_both


class SOPTests(BallotTestCase):
    def sop(self):
        return services.create_sop(
            self.secretary,
            committee=self.committee,
            title="Conflict resolution",
            category=SOPCategory.CONFLICT_RESOLUTION,
            body="1. The co-chairs consult.\n2. A second ballot follows.",
        )

    def decide(self, version, **choices):
        ballot = services.put_sop_version_to_ballot(self.secretary, version)
        ballot = services.open_ballot(self.public_chair, ballot)
        self.votes(ballot, **choices)
        return close_by_both(ballot, self.private_chair, self.public_chair)

    def test_a_procedure_is_adopted_by_a_double_supermajority_ballot(self):
        sop = self.sop()
        version = sop.versions.get()
        self.assertEqual(version.status, SOPVersionStatus.DRAFT)
        ballot = self.decide(
            version, public_chair="yes", public_member="yes", private_chair="yes", private_member="yes"
        )
        self.assertEqual(ballot.method, VotingMethod.DOUBLE_SUPERMAJORITY)
        self.assertEqual(ballot.subject_type, SubjectType.SOP)
        self.assertEqual(ballot.subject_title, "SOP: Conflict resolution, version 1")
        version.refresh_from_db()
        self.assertEqual(version.status, SOPVersionStatus.ADOPTED)
        self.assertIsNotNone(version.adopted_at)
        self.assertTrue(AuditEvent.objects.filter(verb="sop.version_adopted").exists())

    def test_a_new_version_supersedes_the_one_in_force_only_when_adopted(self):
        sop = self.sop()
        first = sop.versions.get()
        self.decide(first, public_chair="yes", public_member="yes", private_chair="yes", private_member="yes")
        second = services.draft_sop_version(self.secretary, sop, body="1. Mediation first.", change_summary="Mediation")
        self.assertEqual(second.number, 2)
        first.refresh_from_db()
        self.assertEqual(first.status, SOPVersionStatus.ADOPTED)
        self.decide(second, public_chair="yes", public_member="yes", private_chair="yes", private_member="yes")
        self.assertEqual(
            dict(SOPVersion.objects.filter(sop=sop).values_list("number", "status")),
            {1: SOPVersionStatus.SUPERSEDED, 2: SOPVersionStatus.ADOPTED},
        )

    def test_one_sector_short_of_two_thirds_deadlocks_and_the_draft_waits_for_a_second_ballot(self):
        sop = self.sop()
        version = sop.versions.get()
        ballot = self.decide(version, public_chair="yes", public_member="yes", private_chair="yes", private_member="no")
        self.assertEqual(ballot.outcome, Outcome.DEADLOCKED)
        version.refresh_from_db()
        self.assertEqual(version.status, SOPVersionStatus.DRAFT)
        second = services.start_second_ballot(self.public_chair, ballot)
        self.assertEqual((second.subject_type, second.subject_id), (SubjectType.SOP, version.pk))

    def test_a_rejected_version_is_recorded_and_frozen(self):
        sop = self.sop()
        version = sop.versions.get()
        self.decide(version, public_chair="no", public_member="no", private_chair="no", private_member="yes")
        version.refresh_from_db()
        self.assertEqual(version.status, SOPVersionStatus.REJECTED)
        with self.assertRaisesMessage(DomainError, "its text is frozen"):
            services.update_sop_version(self.secretary, version, body="Changed")

    def test_a_draft_on_an_open_ballot_cannot_change(self):
        version = self.sop().versions.get()
        ballot = services.put_sop_version_to_ballot(self.secretary, version)
        services.open_ballot(self.public_chair, ballot)
        with self.assertRaisesMessage(DomainError, "A ballot on this version is open"):
            services.update_sop_version(self.secretary, version, body="Sneaky change")

    def test_an_adopted_version_cannot_be_put_to_another_ballot(self):
        version = self.sop().versions.get()
        self.decide(version, public_chair="yes", public_member="yes", private_chair="yes", private_member="yes")
        ballot = services.put_sop_version_to_ballot(self.secretary, version)
        with self.assertRaisesMessage(DomainError, "only a draft version is put to a ballot"):
            services.open_ballot(self.public_chair, ballot)

    def test_one_draft_at_a_time(self):
        sop = self.sop()
        with self.assertRaisesMessage(DomainError, "Version 1 of this procedure is still a draft"):
            services.draft_sop_version(self.secretary, sop, body="Another")

    def test_members_do_not_write_procedures(self):
        from django.core.exceptions import PermissionDenied

        with self.assertRaises(PermissionDenied):
            services.create_sop(self.public_member, committee=self.committee, title="Mine", body="Text")

    def test_the_procedure_page_shows_the_text_in_force_versions_and_the_diff(self):
        sop = self.sop()
        self.decide(
            sop.versions.get(), public_chair="yes", public_member="yes", private_chair="yes", private_member="yes"
        )
        self.client.force_login(self.secretary)
        response = self.client.post(
            f"/sops/{sop.pk}/version/",
            {"body": "1. Mediation first.\n2. A second ballot follows.", "change_summary": "x"},
        )
        self.assertEqual(response.status_code, 302)
        response = self.client.post(f"/sops/{sop.pk}/ballot/", follow=True)
        self.assertContains(response, "Adopt Conflict resolution, version 2")
        page = self.client.get(f"/sops/{sop.pk}/").content.decode()
        self.assertIn("In force: version 1", page)
        self.assertIn("+1. Mediation first.", page)
        self.assertIn("-1. The co-chairs consult.", page)
        self.assertIn("This draft is on a ballot", page)
        self.client.force_login(self.outsider)
        self.assertContains(self.client.get("/sops/"), "Conflict resolution")


class SOPAPITests(APIResourceChecks, BallotTestCase):
    url = "/api/sops/"
    read_only = True

    def make_object(self, n):
        return services.create_sop(self.secretary, committee=self.committee, title=f"Procedure {n}", body="Text.")

    def test_a_procedure_lists_its_versions_and_the_one_in_force(self):
        sop = self.make_object(1)
        body = self.api(self.outsider).get(f"{self.url}{sop.pk}/").json()
        self.assertIsNone(body["in_force"])
        self.assertEqual([(v["number"], v["status"]) for v in body["versions"]], [(1, "draft")])

    def test_listing_costs_the_same_queries_for_few_and_many_rows(self):
        # An empty list skips the prefetches: start the baseline from one row.
        self.make_object(0)
        super().test_listing_costs_the_same_queries_for_few_and_many_rows()
