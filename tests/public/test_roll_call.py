"""What a committee publishes about named votes is its own setting (DESIGN.md 2.8), and, as one
of its voting rules, no one person changes it once the committee is constituted (2.7)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.test import Client

from governance import services
from governance.choices import RollCallPublication
from governance.exceptions import DomainError
from tests.governance.ballot_support import BallotTestCase


class RollCallPublicationTests(BallotTestCase):
    def decide(self):
        ballot = self.motion("Adopt the meeting calendar")
        services.declare_conflict(self.private_member, ballot, "Helios hosts the meetings.")
        self.votes(ballot, public_chair="yes", public_member="no", private_chair="yes")
        return services.close_ballot(self.public_chair, ballot)

    def test_by_default_only_per_sector_counts_are_published(self):
        ballot = self.decide()
        page = Client().get(f"/public/decisions/{ballot.pk}/").content.decode()
        self.assertIn("publishes per-sector counts only", page)
        self.assertIn("Helios hosts the meetings.", page)  # the reason, with the organization
        self.assertIn("Helios Compute", page)
        for name in ("Ana", "Carla", "Erik", "Ben"):
            self.assertNotIn(name, page)

    def test_a_committee_that_publishes_roll_calls_shows_each_members_vote_after_close(self):
        services.update_committee(self.admin, self.committee, roll_call_publication=RollCallPublication.AFTER_CLOSE)
        ballot = self.decide()
        page = Client().get(f"/public/decisions/{ballot.pk}/").content.decode()
        self.assertIn("How each member voted", page)
        for name in ("Ana", "Carla", "Ben", "Erik"):
            self.assertIn(name, page)
        self.assertIn("Erik", page.split("Recusals", 1)[1])

    def test_an_open_ballot_shows_no_roll_call_even_where_roll_calls_are_published(self):
        services.update_committee(self.admin, self.committee, roll_call_publication=RollCallPublication.AFTER_CLOSE)
        ballot = self.motion("Still voting")
        self.votes(ballot, public_chair="yes")
        self.assertEqual(Client().get(f"/public/decisions/{ballot.pk}/").status_code, 404)

    def test_once_constituted_no_one_changes_what_the_public_sees_of_named_votes(self):
        self.decide()  # the committee acts: it is constituted from now on
        self.committee.refresh_from_db()
        for person in (self.admin, self.public_chair, self.private_chair, self.secretary):
            with self.subTest(person=person.username), self.assertRaises((DomainError, PermissionDenied)):
                services.update_committee(person, self.committee, roll_call_publication=RollCallPublication.AFTER_CLOSE)
        response = self.api(self.admin).patch(
            f"/api/committees/{self.committee.pk}/", {"roll_call_publication": RollCallPublication.AFTER_CLOSE}
        )
        self.assertEqual(response.status_code, 409, response.content)
        self.committee.refresh_from_db()
        self.assertEqual(self.committee.roll_call_publication, RollCallPublication.COUNTS_ONLY)

    def test_the_setting_is_part_of_the_committees_api_and_refuses_an_unknown_value(self):
        response = self.api(self.admin).get(f"/api/committees/{self.committee.pk}/")
        self.assertEqual(response.json()["roll_call_publication"], RollCallPublication.COUNTS_ONLY)
        response = self.api(self.admin).patch(
            f"/api/committees/{self.committee.pk}/", {"roll_call_publication": "everything"}
        )
        self.assertEqual(response.status_code, 400)
