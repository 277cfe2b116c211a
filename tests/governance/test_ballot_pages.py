"""The ballot pages: the list with my vote status, the ballot page, the live tally, the home panel."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance import services
from governance.choices import VotingMethod
from governance.models import Ballot, Eligibility, Vote
from tests.governance.ballot_support import BallotTestCase


class BallotPageTests(BallotTestCase):
    def test_the_list_shows_open_ballots_first_with_my_vote_status(self):
        closed = self.motion("Approve last year's report")
        self.close(closed)
        voted = self.motion("Adopt the calendar")
        services.cast_vote(self.public_member, voted, "yes")
        self.motion("Elect the auditor")
        self.client.force_login(self.public_member)
        page = self.client.get("/ballots/").content.decode()
        self.assertLess(page.index("Elect the auditor"), page.index("Approve last year"))
        self.assertLess(page.index("Adopt the calendar"), page.index("Approve last year"))
        self.assertIn("Voted yes", page)
        self.assertIn("Not voted yet", page)
        self.assertIn("Did not vote", page)

    def test_the_list_costs_the_same_queries_for_few_and_many_ballots(self):
        self.motion("First")
        self.close(self.motion("First decided"))  # an empty record's page needs no query
        self.client.force_login(self.public_member)
        self.client.get("/ballots/")
        with CaptureQueriesContext(connection) as few:
            self.assertEqual(self.client.get("/ballots/").status_code, 200)
        for n in range(8):
            ballot = self.motion(f"Motion {n}")
            services.cast_vote(self.public_member, ballot, "no")
            if n % 2:
                self.close(ballot)
        with self.assertNumQueries(len(few)):
            self.assertEqual(self.client.get("/ballots/").status_code, 200)

    def test_the_closed_record_is_listed_a_page_at_a_time_newest_first(self):
        from unittest import mock

        for n in range(5):
            self.close(self.motion(f"Decision {n}"))
        self.client.force_login(self.public_member)

        def closed_section(query=""):
            page = self.client.get(f"/ballots/{query}").content.decode()
            section = page[page.index('id="closed-heading"') : page.index('id="turnout-heading"')]
            return section, page

        with mock.patch("governance.views.ballots.CLOSED_PER_PAGE", 3):
            first, page = closed_section()
            self.assertEqual([n for n in range(5) if f"Decision {n}<" in first], [2, 3, 4])
            self.assertIn('href="?page=2" rel="next">Older</a>', first)
            second, page = closed_section("?page=2")
            self.assertEqual([n for n in range(5) if f"Decision {n}<" in second], [0, 1])
            self.assertIn("Page 2 of 2", second)
            # The turnout chart stays that of the latest closed ballots on every page.
            self.assertIn("Decision 4</a></th>", page[page.index('id="turnout-heading"') :])

    def test_a_member_votes_on_the_ballot_page_and_the_tally_counts_it(self):
        ballot = self.motion()
        self.client.force_login(self.private_member)
        page = self.client.get(f"/ballots/{ballot.pk}/").content.decode()
        self.assertIn("You have not voted yet.", page)
        self.assertIn('hx-trigger="every 4s"', page)
        self.assertIn("vendor/plotly-basic/plotly-basic.min.js", page)
        response = self.client.post(f"/ballots/{ballot.pk}/vote/", {"choice": "no"}, follow=True)
        self.assertContains(response, "Your vote is recorded: no.")
        self.assertContains(response, "You voted <strong>no</strong>")
        self.assertEqual(Vote.objects.get(ballot=ballot).choice, "no")
        panel = self.client.get(f"/ballots/{ballot.pk}/tally/").content.decode()
        self.assertIn('<td class="num" data-count="no">1</td>', panel)

    def test_the_tally_panel_stops_polling_once_the_ballot_is_closed(self):
        ballot = self.motion()
        self.close(ballot)
        self.client.force_login(self.public_member)
        panel = self.client.get(f"/ballots/{ballot.pk}/tally/").content.decode()
        self.assertNotIn("hx-trigger", panel)
        self.assertIn("Outcome: <strong", panel)

    def test_the_tally_panel_costs_the_same_queries_for_any_number_of_voters(self):
        small = self.motion("Small")
        self.client.force_login(self.public_member)
        self.client.get(f"/ballots/{small.pk}/tally/")
        with CaptureQueriesContext(connection) as few:
            self.client.get(f"/ballots/{small.pk}/tally/")
        for n in range(6):
            self.seat(f"pub{n}", self.orgs.council)
            self.seat(f"pri{n}", self.orgs.helios)
        large = self.motion("Large")
        for seat in Eligibility.objects.filter(ballot=large).select_related("user"):
            services.cast_vote(seat.user, large, "yes")
        with self.assertNumQueries(len(few)):
            self.client.get(f"/ballots/{large.pk}/tally/")

    def test_an_outsider_sees_an_open_ballot_but_not_its_tally(self):
        ballot = self.motion()
        self.client.force_login(self.outsider)
        page = self.client.get(f"/ballots/{ballot.pk}/").content.decode()
        self.assertIn("its tally is shown to the committee's members", page)
        self.assertNotIn("tally-data", page)
        self.assertIn("Not a voter", page)

    def test_a_member_declares_a_conflict_on_the_page(self):
        ballot = self.motion()
        self.client.force_login(self.public_member)
        response = self.client.post(f"/ballots/{ballot.pk}/recuse/", {"reason": "My firm advises."}, follow=True)
        self.assertContains(response, "you are recused from this ballot")
        self.assertContains(response, "You are recused from this ballot: My firm advises.")
        self.assertNotContains(response, "Cast your vote")

    def test_a_refusal_is_shown_as_a_message(self):
        ballot = self.motion()
        self.close(ballot)
        self.client.force_login(self.public_member)
        response = self.client.post(f"/ballots/{ballot.pk}/vote/", {"choice": "yes"}, follow=True)
        self.assertContains(response, "This ballot is closed")

    def test_a_co_chair_opens_and_closes_from_the_page_and_a_member_cannot(self):
        ballot = self.motion(opened=False)
        self.client.force_login(self.public_member)
        self.assertNotContains(self.client.get(f"/ballots/{ballot.pk}/"), "Open the ballot")
        response = self.client.post(f"/ballots/{ballot.pk}/open/", follow=True)
        self.assertContains(response, "co-chairs open ballots")
        self.client.force_login(self.private_chair)
        response = self.client.post(f"/ballots/{ballot.pk}/open/", follow=True)
        self.assertContains(response, "The ballot is open.")
        # Nobody has voted: the private co-chair's close is a request, the public one's closes it.
        response = self.client.post(f"/ballots/{ballot.pk}/close/", follow=True)
        self.assertContains(response, "request to close the ballot early is recorded")
        self.client.force_login(self.public_chair)
        response = self.client.post(f"/ballots/{ballot.pk}/close/", follow=True)
        self.assertContains(response, "Roll call")
        self.assertEqual(Ballot.objects.get(pk=ballot.pk).outcome, "no_quorum")

    def test_the_secretary_prepares_a_ballot_on_the_page(self):
        self.client.force_login(self.secretary)
        response = self.client.post(
            "/ballots/new/",
            {"committee": self.committee.pk, "title": "Adopt the 2027 calendar", "subject_type": "motion"},
            follow=True,
        )
        self.assertContains(response, "The draft ballot is ready")
        ballot = Ballot.objects.get(title="Adopt the 2027 calendar")
        self.assertEqual(ballot.method, VotingMethod.PARITY_MAJORITY)
        response = self.client.post(
            "/ballots/new/",
            {"committee": self.committee.pk, "title": "On a charter", "subject_type": "charter"},
        )
        self.assertContains(response, "Name the project charter this ballot decides.")
        self.client.force_login(self.public_member)
        self.assertEqual(self.client.get("/ballots/new/").status_code, 403)


class HomePanelTests(BallotTestCase):
    def test_the_home_page_lists_ballots_waiting_for_my_vote_until_i_vote(self):
        ballot = self.motion("Adopt the calendar")
        self.client.force_login(self.public_member)
        self.assertContains(self.client.get("/"), "Waiting for your vote")
        services.cast_vote(self.public_member, ballot, "abstain")
        self.assertNotContains(self.client.get("/"), "Waiting for your vote")

    def test_a_recused_member_is_not_waited_for(self):
        ballot = self.motion("Adopt the calendar")
        services.declare_conflict(self.public_member, ballot, "Conflict.")
        self.client.force_login(self.public_member)
        self.assertNotContains(self.client.get("/"), "Waiting for your vote")

    def test_a_deadlock_stays_on_the_co_chairs_home_with_its_second_ballot_until_that_closes(self):
        ballot = self.motion("Adopt the data policy", method=VotingMethod.DOUBLE_MAJORITY)
        self.votes(ballot, public_chair="yes", public_member="yes", private_chair="no", private_member="no")
        self.close(ballot)
        self.client.force_login(self.private_chair)
        home = self.client.get("/")
        self.assertContains(home, "Deadlocked ballots")
        self.assertContains(home, "Adopt the data policy")
        response = self.client.post(f"/ballots/{ballot.pk}/second/", follow=True)
        self.assertContains(response, "Second ballot: Adopt the data policy")
        home = self.client.get("/")
        self.assertContains(home, "Deadlocked ballots")
        self.assertContains(home, "second ballot drafted</a>: open it", html=False)
        second = Ballot.objects.get(previous_ballot=ballot)
        services.open_ballot(self.private_chair, second)
        self.assertContains(self.client.get("/"), "second ballot open</a>")
        self.votes(second, public_chair="yes", public_member="yes", private_chair="yes", private_member="yes")
        self.close(second)
        self.assertNotContains(self.client.get("/"), "Deadlocked ballots")

    def test_a_member_sees_no_deadlock_it_is_the_co_chairs_work(self):
        ballot = self.motion("Adopt the data policy", method=VotingMethod.DOUBLE_MAJORITY)
        self.votes(ballot, public_chair="yes", public_member="yes", private_chair="no", private_member="no")
        self.close(ballot)
        self.client.force_login(self.public_member)
        self.assertNotContains(self.client.get("/"), "Deadlocked ballots")


class TurnoutTests(BallotTestCase):
    def test_the_ballot_list_shows_turnout_per_sector_of_closed_ballots(self):
        ballot = self.motion("Adopt the calendar")
        self.votes(ballot, public_chair="yes", public_member="abstain", private_chair="no")
        self.close(ballot)
        self.client.force_login(self.auditor)
        page = self.client.get("/ballots/").content.decode()
        self.assertIn("Turnout per sector", page)
        self.assertIn('id="turnout-data"', page)
        self.assertIn("2 of 2 (100 %)", page)
        self.assertIn("1 of 2 (50 %)", page)
