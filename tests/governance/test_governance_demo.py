"""The demo body's governance record, and every governance page over it, for several people."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import TestCase

from governance.choices import BallotStatus, Outcome
from governance.models import SOP, Ballot, Meeting, User
from tests.governance.ballot_support import FAST_HASHING


@FAST_HASHING
class GovernanceDemoTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        call_command("seed_demo", stdout=StringIO())

    def test_the_demo_has_open_closed_and_deadlocked_ballots_and_approved_minutes(self):
        statuses = set(Ballot.objects.values_list("status", flat=True))
        self.assertEqual(statuses, set(BallotStatus.values))
        deadlocked = Ballot.objects.filter(outcome=Outcome.DEADLOCKED)
        self.assertTrue(deadlocked.exists())
        for ballot in deadlocked:
            self.assertTrue(ballot.follow_ups.exists(), ballot)
        # One deadlock the body resolved: its second ballot passed.
        self.assertTrue(Ballot.objects.filter(previous_ballot__in=deadlocked, outcome=Outcome.PASSED).exists())
        self.assertTrue(Meeting.objects.filter(minutes__status="approved").exists())
        self.assertTrue(Ballot.objects.filter(subject_type="sop", status="closed", outcome="passed").exists())

    def test_every_governance_page_renders_for_members_staff_and_the_secretary(self):
        pages = ["/", "/ballots/", "/meetings/", "/sops/"]
        for ballot in Ballot.objects.all():
            pages += [f"/ballots/{ballot.pk}/", f"/ballots/{ballot.pk}/tally/"]
        for meeting in Meeting.objects.all():
            pages.append(f"/meetings/{meeting.pk}/")
        past = Meeting.objects.get(minutes__status="approved")
        pages += [f"/meetings/{past.pk}/minutes/", f"/meetings/{past.pk}/roll-call.csv"]
        for sop in SOP.objects.all():
            pages.append(f"/sops/{sop.pk}/")
        for username in ("carla.public", "ben.private", "grace.secretary", "sam.staff", "uma.auditor", "admin"):
            self.client.force_login(User.objects.get(username=username))
            for url in pages:
                response = self.client.get(url)
                drafts_hidden = response.status_code == 404 and username in ("sam.staff", "uma.auditor")
                self.assertTrue(
                    response.status_code == 200 or drafts_hidden, f"{username} {url} {response.status_code}"
                )

    def test_the_secretary_has_the_forms_and_the_admin_shows_the_record(self):
        self.client.force_login(User.objects.get(username="grace.secretary"))
        for url in ("/ballots/new/", "/meetings/new/", "/sops/new/"):
            self.assertEqual(self.client.get(url).status_code, 200, url)
        self.client.force_login(User.objects.get(username="admin"))
        ballot = Ballot.objects.filter(status=BallotStatus.CLOSED).first()
        for url in (
            "/admin/governance/ballot/",
            f"/admin/governance/ballot/{ballot.pk}/change/",
            "/admin/governance/meeting/",
            "/admin/governance/sop/",
        ):
            self.assertEqual(self.client.get(url).status_code, 200, url)

    def test_carla_finds_the_ballots_waiting_for_her_vote_on_the_home_page(self):
        self.client.force_login(User.objects.get(username="carla.public"))
        home = self.client.get("/").content.decode()
        self.assertIn("Waiting for your vote", home)
        self.assertIn("Create a joint working group on evaluation benchmarks", home)
