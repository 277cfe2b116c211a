"""The functions a ballot calls on a charter (governance.subjects): parties, the gate, the outcome."""

from __future__ import annotations

from charters import ballots
from charters.choices import CharterStatus, VersionStatus
from governance.models import AuditEvent
from governance.subjects import subject_module
from tests.charters.base import CharterTestCase, ballot_outcome


class BallotHookTests(CharterTestCase):
    def test_the_subject_module_of_a_charter_is_charters_ballots(self):
        self.assertIs(subject_module("charter"), ballots)

    def test_the_parties_are_the_lead_and_participating_organizations(self):
        charter = self.draft(participating_organizations=[self.orgs.helios, self.orgs.northwind])
        self.assertEqual(ballots.parties(charter), {self.orgs.council.pk, self.orgs.helios.pk, self.orgs.northwind.pk})

    def test_get_subject_finds_and_locks_the_charter(self):
        charter = self.draft()
        self.assertEqual(ballots.get_subject(charter.pk, for_update=True), charter)
        with self.assertRaises(type(charter).DoesNotExist):
            ballots.get_subject(999999)

    def test_a_passed_ballot_approves_the_charter(self):
        charter = self.ready_for_ballot(self.draft())
        ballots.apply_outcome(charter, ballot_outcome(charter, "passed"), self.public_chair)
        charter = self.refreshed(charter)
        self.assertEqual((charter.status, charter.version), (CharterStatus.APPROVED, 1))

    def test_a_rejected_ballot_rejects_the_charter(self):
        charter = self.ready_for_ballot(self.draft())
        ballots.apply_outcome(charter, ballot_outcome(charter, "rejected"), self.public_chair)
        self.assertEqual(self.refreshed(charter).status, CharterStatus.REJECTED)

    def test_a_deadlock_or_missed_quorum_leaves_the_charter_under_review_for_a_second_ballot(self):
        charter = self.ready_for_ballot(self.draft())
        for outcome in ("deadlocked", "no_quorum"):
            with self.subTest(outcome=outcome):
                ballots.apply_outcome(charter, ballot_outcome(charter, outcome), self.public_chair)
                self.assertEqual(self.refreshed(charter).status, CharterStatus.UNDER_REVIEW)
                self.assertEqual(charter.versions.get().status, VersionStatus.PROPOSED)
                ballots.check_can_open(charter)  # a second ballot may open
        self.assertEqual(
            AuditEvent.objects.filter(verb="charter.ballot_inconclusive", object_id=str(charter.pk)).count(), 2
        )

    def test_the_closer_of_an_automatic_close_is_the_system(self):
        charter = self.ready_for_ballot(self.draft())
        ballots.apply_outcome(charter, ballot_outcome(charter, "passed"), None)
        event = AuditEvent.objects.filter(verb="charter.approve").get()
        self.assertEqual(event.actor_repr, "system")

    def test_describe_and_url(self):
        charter = self.draft()
        self.assertEqual(ballots.describe(charter), "Charter “Federated triage model”")
        self.assertEqual(ballots.url(charter), f"/charters/{charter.pk}/")
