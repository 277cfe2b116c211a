"""On PostgreSQL, with real threads: concurrent edits cannot put the roadmap in a state that
no single edit could (a dependency cycle, two approved versions)."""

import pytest
from django.test import TransactionTestCase

from governance import services as governance
from roadmap.choices import RoadmapStatus
from roadmap.models import MilestoneDependency, Roadmap
from roadmap.planning import dependency_cycle
from roadmap.services import milestones, roadmaps
from tests.base import make_body
from tests.roadmap.support import plan_roadmap
from tests.support.races import together


@pytest.mark.postgres
class ConcurrentRoadmapTests(TransactionTestCase):
    def setUp(self):
        self.body = make_body()
        self.plan = plan_roadmap(self.body)

    def test_two_edits_that_each_close_half_a_cycle_cannot_both_succeed(self):
        pm, plan = self.body.program_manager, self.plan
        for _ in range(5):
            MilestoneDependency.objects.filter(milestone__in=[plan.release, plan.consent]).delete()
            results = together(
                lambda: milestones.update_milestone(pm, plan.release, depends_on=[plan.consent]),
                lambda: milestones.update_milestone(pm, plan.consent, depends_on=[plan.release]),
            )
            failures = [r for r in results if isinstance(r, Exception)]
            self.assertEqual(len(failures), 1, results)
            self.assertIn("would create a cycle", str(failures[0]))
            edges = list(MilestoneDependency.objects.values_list("milestone_id", "depends_on_id"))
            for source, _ in edges:
                self.assertEqual(dependency_cycle(source, [], edges), [])
            self.assertFalse({(plan.release.pk, plan.consent.pk), (plan.consent.pk, plan.release.pk)} <= set(edges))

    def test_two_drafts_approved_at_once_leave_one_approved_version(self):
        body = self.body
        first = self.plan.roadmap
        second = roadmaps.draft_next_version(body.program_manager, first)
        open_ballots = []
        for draft in (first, second):
            ballot = governance.open_ballot(
                body.public_chair,
                governance.create_ballot(
                    body.public_chair,
                    committee=body.committee,
                    title=f"Approve v{draft.version}",
                    subject_type="roadmap",
                    subject_id=draft.pk,
                ),
            )
            for voter in (body.public_chair, body.private_chair, body.public_member, body.private_member):
                governance.cast_vote(voter, ballot, "yes")
            open_ballots.append(ballot)
        results = together(*(lambda b=b: governance.close_ballot(body.public_chair, b) for b in open_ballots))
        # Whichever came second either failed or superseded the first: never two approved.
        self.assertEqual(Roadmap.objects.filter(status=RoadmapStatus.APPROVED).count(), 1, results)
        self.assertLessEqual(sum(isinstance(r, Exception) for r in results), 1, results)
