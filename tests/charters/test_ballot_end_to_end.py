"""A real ballot on a real charter: the committee decides, the charter follows (DESIGN.md 2.1-2.2)."""

from __future__ import annotations

from charters.services import agreements, amendments, lifecycle
from compute.models import CreditAccount
from governance import services as governance
from governance.exceptions import DomainError
from governance.models import Ballot
from tests.charters.base import CharterTestCase
from tests.support.ballots import close_by_both


class CharterBallotTests(CharterTestCase):
    def put_to_ballot(self, charter):
        return governance.create_ballot(
            self.public_chair,
            committee=self.committee,
            title=f"Approve “{charter.title}”",
            subject_type="charter",
            subject_id=charter.pk,
        )

    def vote_all(self, ballot, choice, *people):
        for person in people:
            governance.cast_vote(person, ballot, choice)

    def test_a_ballot_on_a_charter_passes_and_the_charter_becomes_approved(self):
        agreement = self.agreement(signed_by=[self.staff, self.private_staff])
        charter = self.ready_for_ballot(self.draft(data_use_agreements=[agreement]))
        ballot = governance.open_ballot(self.public_chair, self.put_to_ballot(charter))
        # Carla (council, the lead) and Erik (Helios, taking part) are recused as parties.
        self.assertEqual(set(ballot.recusals.values_list("user__username", flat=True)), {"carla", "erik"})
        self.vote_all(ballot, "yes", self.public_chair, self.private_chair)
        ballot = close_by_both(ballot, self.private_chair, self.public_chair)
        self.assertEqual(ballot.outcome, "passed")
        charter = self.refreshed(charter)
        self.assertEqual((charter.status, charter.version), ("approved", 1))
        self.assertEqual(charter.versions.get().status, "approved")
        # Approval opens the charter's credit account, empty until credits are awarded.
        account = CreditAccount.objects.get(charter=charter)
        self.assertEqual(account.balance, 0)

    def test_a_rejected_ballot_rejects_the_charter(self):
        charter = self.ready_for_ballot(self.draft())
        ballot = governance.open_ballot(self.public_chair, self.put_to_ballot(charter))
        self.vote_all(ballot, "no", self.public_chair, self.private_chair)
        close_by_both(ballot, self.public_chair, self.private_chair)
        self.assertEqual(self.refreshed(charter).status, "rejected")

    def test_a_deadlocked_ballot_leaves_the_charter_under_review_and_a_second_ballot_may_follow(self):
        charter = self.ready_for_ballot(self.draft())
        ballot = governance.open_ballot(self.public_chair, self.put_to_ballot(charter))
        governance.cast_vote(self.public_chair, ballot, "yes")
        governance.cast_vote(self.private_chair, ballot, "no")
        ballot = close_by_both(ballot, self.public_chair, self.private_chair)
        self.assertEqual(ballot.outcome, "deadlocked")
        self.assertEqual(self.refreshed(charter).status, "under_review")
        second = governance.open_ballot(self.public_chair, governance.start_second_ballot(self.public_chair, ballot))
        self.assertEqual(second.status, "open")

    def test_the_data_contract_gate_refuses_to_open_a_ballot_naming_who_has_not_signed(self):
        agreement = self.agreement(signed_by=[self.staff])
        charter = self.ready_for_ballot(self.draft(data_use_agreements=[agreement]))
        ballot = self.put_to_ballot(charter)
        with self.assertRaises(DomainError) as refusal:
            governance.open_ballot(self.public_chair, ballot)
        self.assertIn("is not signed by Helios Compute", refusal.exception.message)
        response = self.api(self.public_chair).post(f"/api/ballots/{ballot.pk}/open/")
        self.assertEqual(response.status_code, 409)
        self.assertIn("is not signed by Helios Compute", response.json()["detail"])
        # Once Helios signs, the same ballot opens.
        agreements.sign_agreement(self.private_staff, agreement)
        self.assertEqual(governance.open_ballot(self.public_chair, ballot).status, "open")

    def test_the_reviews_gate_refuses_to_open_a_ballot(self):
        charter = self.under_review(self.draft())
        with self.assertRaisesMessage(DomainError, "has not been recorded"):
            governance.open_ballot(self.public_chair, self.put_to_ballot(charter))

    def test_an_amendment_is_approved_by_its_own_ballot(self):
        charter = self.active()
        amendments.propose_amendment(self.staff, charter, change_note="Wider.", title="Federated triage, nationwide")
        self.pass_reviews(charter)
        ballot = governance.open_ballot(self.public_chair, self.put_to_ballot(charter))
        self.vote_all(ballot, "yes", self.public_chair, self.private_chair)
        close_by_both(ballot, self.public_chair, self.private_chair)
        charter = self.refreshed(charter)
        self.assertEqual(
            (charter.status, charter.version, charter.title), ("active", 2, "Federated triage, nationwide")
        )

    def test_no_revision_is_requested_while_a_ballot_is_open(self):
        charter = self.ready_for_ballot(self.draft())
        governance.open_ballot(self.public_chair, self.put_to_ballot(charter))
        with self.assertRaisesMessage(DomainError, "A ballot on this charter is open"):
            lifecycle.request_revision(self.secretary, charter, reason="Wait.")

    def test_the_charter_page_lists_its_ballots_with_the_tally_per_sector(self):
        charter = self.ready_for_ballot(self.draft())
        self.client.force_login(self.secretary)
        response = self.client.post(f"/charters/{charter.pk}/ballot/")
        ballot = Ballot.objects.get(subject_type="charter", subject_id=charter.pk)
        self.assertRedirects(response, f"/ballots/{ballot.pk}/", fetch_redirect_response=False)
        governance.open_ballot(self.public_chair, ballot)
        governance.cast_vote(self.public_chair, ballot, "yes")
        page = self.client.get(f"/charters/{charter.pk}/")
        self.assertContains(page, "Approve the charter “Federated triage model”")
        self.assertContains(page, "1 / 0 / 0")
        self.assertContains(page, "Public sector: yes / no / abstain")


class ActsOnACharterUnderBallotTests(CharterTestCase):
    """While a ballot on a charter is open nobody moves the charter, and a member recused
    from that ballot takes no other part in it (DESIGN.md 2.7)."""

    def amendment_on_ballot(self):
        charter = self.active()
        amendments.propose_amendment(self.staff, charter, change_note="Wider.", title="Federated triage, nationwide")
        self.pass_reviews(charter)
        draft = governance.create_ballot(
            self.public_chair,
            committee=self.committee,
            title="Amend the triage charter",
            subject_type="charter",
            subject_id=charter.pk,
        )
        return charter, governance.open_ballot(self.public_chair, draft)

    def test_a_recused_member_cannot_complete_a_charter_with_an_open_amendment_ballot(self):
        charter, ballot = self.amendment_on_ballot()
        self.assertTrue(ballot.recusals.filter(user=self.public_member).exists())  # Carla, of the lead
        response = self.api(self.public_member).post(f"/api/charters/{charter.pk}/complete/")
        self.assertEqual(response.status_code, 403, response.content)
        self.assertIn("recused", response.json()["detail"])
        self.assertEqual(self.refreshed(charter).status, "active")

    def test_nobody_completes_a_charter_while_a_ballot_on_it_is_open(self):
        charter, _ = self.amendment_on_ballot()
        response = self.api(self.staff).post(f"/api/charters/{charter.pk}/complete/")
        self.assertEqual(response.status_code, 409, response.content)
        self.assertEqual(self.refreshed(charter).status, "active")
        self.client.force_login(self.staff)
        self.client.post(f"/charters/{charter.pk}/steps/complete/")
        self.assertEqual(self.refreshed(charter).status, "active")
