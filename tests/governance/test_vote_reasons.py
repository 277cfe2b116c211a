"""Members may say why they voted (shown in the roll call and the minutes), and a co-chair sees
who has not voted yet and may remind them, alone: a reminder decides nothing."""

from __future__ import annotations

from django.core import mail
from django.core.exceptions import PermissionDenied

from governance import services
from governance.exceptions import DomainError
from governance.models import AuditEvent, Vote
from tests.governance.ballot_support import BallotTestCase
from tests.support.ballots import close_by_both


class VoteReasonTests(BallotTestCase):
    def test_a_member_votes_with_a_reason_on_the_page_and_it_shows_in_the_roll_call(self):
        ballot = self.motion("Adopt the calendar")
        self.client.force_login(self.public_member)
        response = self.client.post(
            f"/ballots/{ballot.pk}/vote/", {"choice": "no", "reason": "It clashes with the budget cycle."}, follow=True
        )
        self.assertContains(response, "Your vote is recorded: no.")
        vote = Vote.objects.get(ballot=ballot, voter=self.public_member)
        self.assertEqual(vote.reason, "It clashes with the budget cycle.")
        event = AuditEvent.objects.filter(verb="vote.cast", object_id=str(vote.pk)).get()
        self.assertEqual(event.changes["after"]["reason"], "It clashes with the budget cycle.")
        self.votes(ballot, public_chair="yes", private_chair="yes", private_member="yes")
        close_by_both(ballot, self.public_chair, self.private_chair)
        page = self.client.get(f"/ballots/{ballot.pk}/")
        self.assertContains(page, "<td>It clashes with the budget cycle.</td>", html=True)

    def test_a_reason_is_optional_and_a_later_reason_replaces_it(self):
        ballot = self.motion("Adopt the calendar")
        services.cast_vote(self.public_member, ballot, "yes")
        self.assertEqual(Vote.objects.get(voter=self.public_member).reason, "")
        services.cast_vote(self.public_member, ballot, "yes", "On reflection, yes.")
        vote = Vote.objects.get(voter=self.public_member)
        self.assertEqual((vote.choice, vote.reason, vote.changes), ("yes", "On reflection, yes.", 0))


class ReminderTests(BallotTestCase):
    def test_a_co_chair_sees_who_has_not_voted_and_reminds_them(self):
        ballot = self.motion("Adopt the calendar")
        services.cast_vote(self.public_chair, ballot, "yes")
        self.client.force_login(self.public_chair)
        page = self.client.get(f"/ballots/{ballot.pk}/")
        self.assertContains(page, "Not voted yet (3)")
        self.assertContains(page, "Carla")
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(f"/ballots/{ballot.pk}/remind/", follow=True)
        self.assertContains(response, "A reminder goes to the 3 members who have not voted yet.")
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox), ["ben@example.org", "carla@example.org", "erik@example.org"]
        )
        with self.assertRaisesMessage(DomainError, "less than an hour ago"):
            services.remind_voters(self.private_chair, ballot)

    def test_a_member_neither_sees_the_list_nor_reminds(self):
        ballot = self.motion("Adopt the calendar")
        self.client.force_login(self.public_member)
        self.assertNotContains(self.client.get(f"/ballots/{ballot.pk}/"), "Not voted yet")
        with self.assertRaises(PermissionDenied):
            services.remind_voters(self.public_member, ballot)
        with self.assertRaises(PermissionDenied):
            services.remind_voters(self.secretary, ballot)
