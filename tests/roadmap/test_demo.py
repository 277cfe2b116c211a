"""The demo seeds a believable roadmap through the real services and ballots."""

import io

from django.core.management import call_command
from django.test import TestCase

from governance.models import Ballot
from roadmap.choices import RoadmapStatus
from roadmap.models import Baseline, Milestone, ProgressReport, Roadmap


class RoadmapDemoTests(TestCase):
    def test_the_demo_has_an_approved_two_year_roadmap_two_baselines_slips_and_reports(self):
        call_command("seed_demo", stdout=io.StringIO())
        approved = Roadmap.objects.get(status=RoadmapStatus.APPROVED)
        self.assertGreaterEqual((approved.ends_on - approved.starts_on).days, 700)
        self.assertEqual(approved.approval_ballot.outcome, "passed")
        self.assertEqual(
            list(Baseline.objects.filter(roadmap=approved).values_list("name", flat=True)),
            ["v1 approved", "After the GPU delivery delay"],
        )
        self.assertTrue(all(b.ballot.outcome == "passed" for b in Baseline.objects.select_related("ballot")))
        self.assertEqual(Ballot.objects.filter(subject_type="roadmap").count(), 2)
        milestones = list(approved.milestones())
        slips = [m.slippage_days for m in milestones if m.slippage_days is not None]
        self.assertTrue(any(s > 0 for s in slips) and any(s == 0 for s in slips), slips)
        self.assertTrue(any(m.status == "blocked" for m in milestones))
        self.assertGreaterEqual(approved.initiatives.count(), 5)
        reports = ProgressReport.objects.all()
        self.assertGreaterEqual(reports.count(), 5)
        self.assertTrue(any(r.disagrees for r in reports) and any(not r.disagrees for r in reports))
        self.assertTrue(Roadmap.objects.filter(status=RoadmapStatus.DRAFT, version=2).exists())
        self.assertTrue(Milestone.objects.filter(baseline_date__isnull=True).exists(), "v2 adds unbaselined work")
