"""The demo tells one coherent story: an open charter ballot every voting member may vote on,
initiatives linked to their own charters, varied security scores, and utilization history only
where a metric source collected it."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import TestCase

from compute.models import MetricSource, Resource, SecurityScan
from compute.models.metrics import Sample
from governance.models import Ballot, Membership, Recusal
from roadmap.models import Initiative
from tests.governance.ballot_support import FAST_HASHING


@FAST_HASHING
class DemoStoryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        call_command("seed_demo", "--no-logins", stdout=StringIO())

    def test_an_open_charter_ballot_every_voting_member_may_vote_on(self):
        voters = set(
            Membership.objects.filter(voting=True, committee__name="Technical Governance Body").values_list(
                "user__username", flat=True
            )
        )
        self.assertGreaterEqual(len(voters), 6)
        for ballot in Ballot.objects.filter(status="open", subject_type="charter"):
            recused = set(Recusal.objects.filter(ballot=ballot).values_list("user__username", flat=True))
            if not recused & voters:
                break
        else:
            self.fail("No open charter ballot leaves every voting member free to vote.")

    def test_initiatives_link_their_own_charters(self):
        links = {i.title: {c.title for c in i.charters.all()} for i in Initiative.objects.all()}
        self.assertEqual(links["Sovereign foundation model"], {"Sovereign language model for public services"})
        self.assertEqual(links["Federated health data"], {"Federated triage model"})
        self.assertEqual(links["Evaluation commons"], {"Open evaluation benchmarks"})
        self.assertEqual(links["Climate and agriculture models"], {"Crop monitoring from orbit"})

    def test_security_scores_differ_between_resources(self):
        latest = {}
        for resource in Resource.objects.all():
            scan = SecurityScan.objects.filter(resource=resource, kind="lynis").order_by("-scanned_at").first()
            if scan:
                latest[resource.name] = scan.score
        self.assertGreaterEqual(len(latest), 3)
        self.assertGreaterEqual(max(latest.values()) - min(latest.values()), 20, latest)

    def test_history_only_where_a_source_collects(self):
        collected = set(MetricSource.objects.values_list("resource_id", flat=True))
        stored = set(Sample.objects.values_list("resource_id", flat=True).distinct())
        self.assertTrue(stored)
        self.assertLessEqual(stored, collected)
