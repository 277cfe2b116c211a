"""An initiative's page shows the credit use of its linked charters, and the evidence RAG
weighs the credits spent against the milestones' progress."""

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from compute.services.credits import usage
from roadmap import selectors
from roadmap.services import initiatives, milestones
from tests.compute.credits import CreditsTestCase


class LinkedCharterCreditUseTests(CreditsTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        pm = cls.program_manager
        cls.initiative = initiatives.create_initiative(
            pm,
            title="Sovereign foundation model",
            national_impact_score=5,
            starts_on=timezone.localdate() - datetime.timedelta(days=30),
            charters=[cls.charter, cls.restricted],
        )
        cls.pretraining = milestones.create_milestone(
            pm,
            initiative=cls.initiative,
            title="Pretraining run",
            forecast_date=timezone.localdate() + datetime.timedelta(days=60),
            status="in_progress",
            percent_complete=10,
        )

    def use_credits(self, gpu_hours):
        self.approve(self.request_credits(4000))
        hour = (timezone.now() - datetime.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        usage.post_usage(source="test", resource=self.gpu, charter=self.charter, hour=hour, unit_hours=gpu_hours)

    def test_the_page_shows_each_charters_allocation_and_use(self):
        self.use_credits(Decimal("400"))  # 1,000 of 4,000 credits
        self.client.force_login(self.public_member)
        response = self.client.get(reverse("roadmap:initiative-detail", args=[self.initiative.pk]))
        self.assertContains(
            response, '<td class="num">4,000</td><td class="num">1,000</td><td class="num">25 %</td>', html=True
        )
        self.assertContains(response, "No credit account yet")

    def test_credits_spent_well_ahead_of_progress_make_the_evidence_red(self):
        self.use_credits(Decimal("400"))  # 25 % spent against 10 % progress: 15 points ahead
        evidence = selectors.initiative_evidence(self.initiative)
        self.assertEqual(evidence.rag, "amber")
        self.assertIn(
            "Credit burn runs ahead of progress: 25% of credits spent against 10% progress.", evidence.reasons
        )
        milestones.update_milestone(self.program_manager, self.pretraining, percent_complete=0)
        self.assertEqual(selectors.initiative_evidence(self.initiative).rag, "red")
        milestones.update_milestone(self.program_manager, self.pretraining, percent_complete=30)
        self.assertEqual(selectors.initiative_evidence(self.initiative).rag, "green")
