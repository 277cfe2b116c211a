"""Each person's home is their inbox: exactly their own work, each item with its deadline, in
a number of queries that does not grow with the volume of work."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from charters.choices import CharterStatus
from charters.services import lifecycle
from compute.services.credits import usage
from governance import services
from governance.choices import MeetingStatus, VotingMethod
from governance.models import Ballot, LogVerification
from governance.transparency.verify import verify_log
from tests.compute.credits import D, make_charter, make_world
from tests.governance.ballot_support import BallotTestCase
from tests.support.ballots import close_by_both


class InboxTestCase(BallotTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.world = make_world(cls.body)

    def home(self, user):
        self.client.force_login(user)
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        return response

    def queries_of_home(self, user) -> int:
        self.client.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(self.client.get("/").status_code, 200)
        return len(captured)

    # --- what the body's work puts in whose inbox ------------------------------------------

    def deadlock(self, title):
        ballot = self.motion(title, method=VotingMethod.DOUBLE_MAJORITY)
        self.votes(ballot, public_chair="yes", public_member="yes", private_chair="no", private_member="no")
        return close_by_both(ballot, self.public_chair, self.private_chair)

    def meeting(self, title, *, days_ahead=3, held=False, minutes=""):
        start = timezone.now() + datetime.timedelta(days=-1 if held else days_ahead)
        meeting = services.schedule_meeting(self.secretary, committee=self.committee, title=title, starts_at=start)
        if held:
            services.set_meeting_status(self.secretary, meeting, MeetingStatus.HELD)
        if minutes:
            services.draft_minutes(self.secretary, meeting, minutes)
        return meeting

    def submitted_charter(self, title):
        charter = make_charter(
            self.body,
            title,
            lead=self.orgs.council,
            status=CharterStatus.DRAFT,
            created_by=self.staff,
            objectives="Better services.",
            national_impact="Shared public benefit.",
        )
        return lifecycle.submit(self.staff, charter)

    def credit_request(self, amount="500"):
        from compute.services.credits import requests

        return requests.create_request(
            self.staff,
            charter=self.world["charter"],
            resource=self.world["gpu"],
            pool=self.world["pool"],
            amount=D(amount),
            justification="Training runs.",
            submit=True,
        )

    def work(self, n: int) -> None:
        """n items of every kind of work the home lists."""
        for i in range(n):
            self.motion(f"Open motion {self._count}-{i}")
            self.motion(f"Draft motion {self._count}-{i}", opened=False)
            self.deadlock(f"Deadlock {self._count}-{i}")
            self.meeting(f"Coming meeting {self._count}-{i}")
            self.meeting(f"Held meeting {self._count}-{i}", held=True)
            self.meeting(f"Minuted meeting {self._count}-{i}", held=True, minutes="We met and agreed.")
            self.credit_request()
            self.submitted_charter(f"Charter {self._count}-{i}")
            lifecycle.start_review(self.secretary, self.submitted_charter(f"Reviewed charter {self._count}-{i}"))
        self._count += 1

    _count = 0

    # --- the co-chair ----------------------------------------------------------------------

    def test_a_co_chair_sees_votes_due_drafts_deadlocks_meetings_and_minutes_with_their_dates(self):
        self.motion("Adopt the calendar", closes_at=timezone.now() + datetime.timedelta(days=2))
        self.motion("Adopt the travel rules", opened=False)
        self.deadlock("Adopt the data policy")
        self.meeting("Spring sitting")
        self.meeting("Winter sitting", held=True, minutes="Minutes of the winter sitting.")
        self.credit_request()
        home = self.home(self.public_chair)
        for text in (
            "Waiting for your vote",
            "Adopt the calendar",
            "Drafts to open",
            "Adopt the travel rules",
            "Deadlocked ballots",
            "no second ballot yet",
            "To run",
            "Spring sitting",
            "Minutes to approve",
            "Winter sitting",
            "1 credit request awaits your signature",
        ):
            self.assertContains(home, text)
        self.assertContains(home, "closes <time")
        self.assertContains(home, "starts <time")
        self.assertNotContains(home, "Minutes to draft")  # the secretary's work

    def test_a_member_sees_only_the_votes_due_not_the_co_chairs_work(self):
        self.motion("Adopt the calendar")
        self.motion("Adopt the travel rules", opened=False)
        self.deadlock("Adopt the data policy")
        self.meeting("Spring sitting")
        self.credit_request()
        home = self.home(self.public_member)
        self.assertContains(home, "Adopt the calendar")
        for text in ("Drafts to open", "Deadlocked ballots", "Spring sitting", "awaits your signature"):
            self.assertNotContains(home, text)

    def test_a_vote_due_names_its_subject_only_where_the_title_does_not(self):
        subject = "Charter “Open evaluation benchmarks”"
        named = self.motion("Approve the charter “Open evaluation benchmarks”")
        other = self.motion("Spring decision")
        Ballot.objects.filter(pk__in=[named.pk, other.pk]).update(subject_title=subject)
        html = self.home(self.public_member).content.decode()
        self.assertIn(f'Spring decision</a> <span class="muted">— {subject}</span>', html)
        self.assertIn("Approve the charter “Open evaluation benchmarks”</a>\n", html)
        self.assertEqual(html.count(f"— {subject}"), 1)

    def test_a_secretary_sees_reviews_to_start_meetings_and_minutes_to_draft(self):
        self.meeting("Spring sitting")
        self.meeting("Winter sitting", held=True)
        self.submitted_charter("Speech corpus")
        home = self.home(self.secretary)
        self.assertContains(home, "Submitted: start the technical review")
        self.assertContains(home, "Speech corpus")
        self.assertContains(home, "Spring sitting")
        self.assertContains(home, "Minutes to draft")
        self.assertNotContains(home, "Minutes to approve")  # the co-chairs'
        self.assertNotContains(home, "Waiting for your vote")  # the secretary does not vote

    def test_a_reviewer_not_party_to_the_charter_sees_the_reviews_to_record(self):
        charter = self.submitted_charter("Speech corpus")
        lifecycle.start_review(self.secretary, charter)
        home = self.home(self.private_member)  # Helios: not a party
        self.assertContains(home, "Reviews to record")
        self.assertContains(home, "data sovereignty, bias audit plan")
        # The council's own member reviews nothing of the council's charter.
        self.assertNotContains(self.home(self.public_member), "Reviews to record")

    def test_reviews_to_record_name_the_missing_kinds_and_leave_out_finished_and_party_charters(self):
        from charters.choices import REVIEW_CHECKLISTS, ReviewKind
        from charters.services import reviews

        def record(charter, kind):
            reviews.record_review(
                self.private_chair,  # Northwind: party to none of these
                charter,
                kind=kind,
                verdict="passed",
                checklist={key: True for key, _, automatic in REVIEW_CHECKLISTS[kind] if not automatic},
            )

        untouched, half, finished, joined = (
            lifecycle.start_review(self.secretary, self.submitted_charter(title))
            for title in ("Speech corpus", "Flood maps", "Grid model", "Helios shared lab")
        )
        record(half, ReviewKind.BIAS_AUDIT)
        for kind in ReviewKind.values:
            record(finished, kind)
        joined.participating_organizations.add(self.orgs.helios)
        home = self.home(self.private_member).content.decode()
        self.assertIn("Speech corpus</a>, version 1: data sovereignty, bias audit plan", home)
        self.assertIn("Flood maps</a>, version 1: data sovereignty <span", home)
        self.assertNotIn("Grid model", home)  # every kind recorded
        self.assertNotIn("Helios shared lab", home)  # Helios is a party: its member does not review it

    def test_a_drafter_sees_their_own_drafts_and_not_a_colleagues(self):
        make_charter(
            self.body, "The drafter idea", lead=self.orgs.council, status=CharterStatus.DRAFT, created_by=self.staff
        )
        self.assertContains(self.home(self.staff), "The drafter idea")
        self.assertNotContains(self.home(self.public_member), "The drafter idea")  # same organization, not hers

    def test_a_staff_member_sees_one_current_state_per_account(self):
        from compute.services.credits import requests

        award = self.credit_request("1000")
        requests.sign_request(self.public_chair, award)
        requests.sign_request(self.private_chair, award)
        hour = timezone.now().replace(minute=0, second=0, microsecond=0)
        for n in range(4):  # 4 × 100 unit-hours × 2.5 = 1,000 credits: 75, 90 and 100 % crossed
            usage.post_usage(
                source="t",
                resource=self.world["gpu"],
                charter=self.world["charter"],
                hour=hour - datetime.timedelta(hours=n + 1),
                unit_hours=D("100"),
            )
        home = self.home(self.staff).content.decode()
        self.assertEqual(home.count("% used:"), 1)
        self.assertIn("100 % used:", home)
        self.assertIn("1,000 of 1,000 credits (100.0 %)", home)

    def test_the_auditor_sees_the_state_of_the_record(self):
        home = self.home(self.auditor)
        self.assertContains(home, "The record")
        self.assertContains(home, "never verified")
        verify_log(check_witnesses=False)
        self.assertEqual(LogVerification.objects.count(), 1)
        home = self.home(self.auditor)
        self.assertContains(home, "Last verification")
        self.assertNotContains(home, "never verified")
        self.assertNotContains(self.home(self.public_chair), "The record")

    def test_nothing_to_do_says_so(self):
        self.assertContains(self.home(self.outsider), "Nothing waits for you today.")

    # --- query counts ------------------------------------------------------------------

    def test_the_home_panels_cost_the_same_queries_whatever_the_volume(self):
        people = [self.public_chair, self.secretary, self.public_member, self.private_member, self.staff, self.auditor]
        self.work(1)
        before = {p.username: self.queries_of_home(p) for p in people}
        self.work(4)
        after = {p.username: self.queries_of_home(p) for p in people}
        self.assertEqual(before, after)
