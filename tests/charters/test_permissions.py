"""Who may do what to a charter: each step has its own permission."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from charters.choices import CharterStatus
from charters.services import charters, lifecycle
from tests.charters.base import CharterTestCase, ballot_outcome


class DraftingPermissionTests(CharterTestCase):
    def test_a_private_sector_staff_member_cannot_edit_another_organizations_draft(self):
        charter = self.draft()
        with self.assertRaises(PermissionDenied):
            charters.update_charter(self.private_staff, charter, title="Taken over")
        response = self.api(self.private_staff).patch(f"/api/charters/{charter.pk}/", {"title": "Taken over"})
        # Tara cannot even see a draft of the council: it is not part of the record yet.
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.refreshed(charter).title, "Federated triage model")

    def test_once_submitted_the_charter_is_visible_but_still_not_editable_by_others(self):
        charter = lifecycle.submit(self.staff, self.draft())
        response = self.api(self.private_staff).patch(f"/api/charters/{charter.pk}/", {"title": "Taken over"})
        self.assertEqual(response.status_code, 403, response.content)

    def test_people_of_the_lead_organization_edit_and_submit_a_colleagues_draft(self):
        charter = self.draft()
        charters.update_charter(self.program_manager, charter, title="Federated triage, phase one")
        self.assertEqual(lifecycle.submit(self.public_member, charter).status, CharterStatus.SUBMITTED)

    def test_a_private_staff_member_cannot_submit_another_organizations_draft(self):
        with self.assertRaises(PermissionDenied):
            lifecycle.submit(self.private_staff, self.draft())

    def test_staff_draft_only_for_their_own_organization(self):
        with self.assertRaises(ValidationError) as refusal:
            self.draft(author=self.private_staff, lead_organization=self.orgs.council)
        self.assertIn("your own organization, Helios Compute", refusal.exception.message_dict["lead_organization"][0])

    def test_people_without_the_staff_role_do_not_draft(self):
        for person in (self.outsider, self.auditor, self.private_member):
            with self.subTest(person=person.username), self.assertRaises(PermissionDenied):
                self.draft(author=person)

    def test_an_approved_charter_is_not_edited_in_place(self):
        charter = self.approved()
        response = self.api(self.staff).patch(f"/api/charters/{charter.pk}/", {"title": "Quietly changed"})
        self.assertEqual(response.status_code, 409)
        self.assertIn("changes by amendment", response.json()["detail"])


class StepPermissionTests(CharterTestCase):
    def test_only_the_secretary_starts_the_review(self):
        charter = lifecycle.submit(self.staff, self.draft())
        for person in (self.staff, self.public_chair, self.public_member):
            with self.subTest(person=person.username), self.assertRaises(PermissionDenied):
                lifecycle.start_review(person, charter)

    def test_nobody_approves_or_rejects_without_a_ballot(self):
        charter = self.ready_for_ballot(self.draft())
        with self.assertRaisesMessage(PermissionDenied, "approved only by the outcome of a ballot"):
            lifecycle.approve(self.admin, charter, ballot=None)
        with self.assertRaises(PermissionDenied):
            lifecycle.approve(self.admin, charter, ballot=ballot_outcome(charter, "rejected"))
        other = self.draft(title="Another")
        with self.assertRaises(PermissionDenied):
            lifecycle.approve(self.admin, charter, ballot=ballot_outcome(other, "passed"))
        elsewhere = ballot_outcome(charter, "passed")
        elsewhere.committee_id = self.committee.pk + 1000
        with self.assertRaisesMessage(PermissionDenied, "Only a ballot of Technical Governance Body"):
            lifecycle.approve(self.admin, charter, ballot=elsewhere)
        response = self.api(self.public_chair).post(f"/api/charters/{charter.pk}/approve/", {})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.refreshed(charter).status, CharterStatus.UNDER_REVIEW)

    def test_only_co_chairs_of_both_sectors_suspend_resume_and_terminate(self):
        charter = self.active()
        for person in (self.staff, self.secretary, self.public_member, self.admin):
            with self.subTest(person=person.username), self.assertRaises(PermissionDenied):
                lifecycle.suspend(person, charter, reason="No.")
        response = self.api(self.staff).post(f"/api/charters/{charter.pk}/terminate/", {"reason": "Done with it."})
        self.assertEqual(response.status_code, 403)
        response = self.api(self.private_chair).post(f"/api/charters/{charter.pk}/suspend/", {"reason": "Audit."})
        self.assertEqual(response.status_code, 202, response.content)  # recorded, waiting for the public sector
        self.assertEqual(
            (response.json()["status"], response.json()["pending_steps"]), ("active", {"suspend": ["private"]})
        )
        again = self.api(self.private_chair).post(f"/api/charters/{charter.pk}/suspend/", {"reason": "Audit."})
        self.assertEqual(again.status_code, 409, again.content)
        response = self.api(self.public_chair).post(f"/api/charters/{charter.pk}/suspend/", {"reason": "Agreed."})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual((response.json()["status"], response.json()["pending_steps"]), ("suspended", {}))
        response = self.api(self.public_chair).post(f"/api/charters/{charter.pk}/terminate/", {"reason": "Over."})
        self.assertEqual(response.status_code, 202, response.content)
        bad = self.api(self.public_chair).post(f"/api/charters/{charter.pk}/withdraw_step/", {"step": "approve"})
        self.assertEqual(bad.status_code, 400, bad.content)
        done = self.api(self.public_chair).post(f"/api/charters/{charter.pk}/withdraw_step/", {"step": "terminate"})
        self.assertEqual((done.status_code, done.json()["pending_steps"]), (200, {}))

    def test_suspending_and_terminating_need_a_reason(self):
        charter = self.active()
        response = self.api(self.public_chair).post(f"/api/charters/{charter.pk}/suspend/", {})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["detail"], "reason: Say why the charter is suspended.")

    def test_only_the_lead_organization_or_a_co_chair_activates(self):
        charter = self.approved()
        with self.assertRaises(PermissionDenied):
            lifecycle.activate(self.private_staff, charter)
        self.assertEqual(lifecycle.activate(self.public_chair, charter).status, CharterStatus.ACTIVE)

    def test_a_revision_is_requested_by_the_committee_officers_with_a_reason(self):
        charter = self.under_review(self.draft())
        with self.assertRaises(PermissionDenied):
            lifecycle.request_revision(self.staff, charter, reason="I changed my mind.")
        with self.assertRaises(ValidationError):
            lifecycle.request_revision(self.secretary, charter, reason="")
        charter = lifecycle.request_revision(self.secretary, charter, reason="The bias review failed.")
        self.assertEqual(charter.status, CharterStatus.REVISION_REQUESTED)
