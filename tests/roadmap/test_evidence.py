"""The evidence-based RAG rule, stated with explicit inputs, and as the API shows it."""

from decimal import Decimal

from django.test import SimpleTestCase

from roadmap import selectors
from roadmap.evidence import UNKNOWN, CreditBurn, EvidenceInputs, evidence_rag
from roadmap.services import milestones
from tests.roadmap.support import RoadmapTestCase, days


class EvidenceRuleTests(SimpleTestCase):
    def test_no_slippage_and_nothing_blocked_is_green(self):
        result = evidence_rag(EvidenceInputs(slipped=[("Data", 3)], progress=Decimal("0.4")))
        self.assertEqual(result.rag, "green")

    def test_slippage_of_15_days_is_amber_and_of_60_days_red(self):
        self.assertEqual(evidence_rag(EvidenceInputs(slipped=[("Data", 14)])).rag, "green")
        self.assertEqual(evidence_rag(EvidenceInputs(slipped=[("Data", 15)])).rag, "amber")
        self.assertEqual(evidence_rag(EvidenceInputs(slipped=[("Data", 59)])).rag, "amber")
        red = evidence_rag(EvidenceInputs(slipped=[("Data", 20), ("Pretraining", 60)]))
        self.assertEqual(red.rag, "red")
        self.assertEqual(red.reasons[0], "“Pretraining” has slipped 60 days past its baseline.")

    def test_a_milestone_past_its_forecast_is_amber_and_a_month_past_it_red(self):
        self.assertEqual(evidence_rag(EvidenceInputs(overdue=[("Data", 1)])).rag, "amber")
        self.assertEqual(evidence_rag(EvidenceInputs(overdue=[("Data", 30)])).rag, "red")

    def test_blocked_at_risk_and_dependency_problems_are_amber(self):
        for inputs in (
            EvidenceInputs(blocked=["Data"]),
            EvidenceInputs(at_risk=["Data"]),
            EvidenceInputs(waiting_on_blocked=["Pretraining"]),
            EvidenceInputs(forecast_before_dependency=["Pretraining"]),
        ):
            with self.subTest(inputs=inputs):
                self.assertEqual(evidence_rag(inputs).rag, "amber")

    def test_credit_burn_ahead_of_progress_is_amber_then_red(self):
        def rag(spent, progress):
            burn = CreditBurn(allocated=Decimal("1000"), spent=Decimal(spent))
            return evidence_rag(EvidenceInputs(progress=Decimal(progress), credit_burn=burn)).rag

        self.assertEqual(rag("450", "0.40"), "green")
        self.assertEqual(rag("500", "0.40"), "amber")
        self.assertEqual(rag("650", "0.40"), "red")

    def test_an_overdrawn_allocation_is_red_whatever_the_progress(self):
        burn = CreditBurn(allocated=Decimal("1000"), spent=Decimal("1001"))
        result = evidence_rag(EvidenceInputs(progress=Decimal("1"), credit_burn=burn))
        self.assertEqual(result.rag, "red")
        self.assertIn("spent more credits than allocated", result.reasons[0])

    def test_unknown_credit_burn_leaves_the_credit_rules_out_and_says_so(self):
        result = evidence_rag(EvidenceInputs(progress=Decimal("0"), credit_burn=UNKNOWN))
        self.assertEqual(result.rag, "green")
        self.assertEqual(result.credit_burn, UNKNOWN)
        self.assertIn("Credit burn of the linked charters is unknown", result.reasons[-1])

    def test_the_worst_signal_wins_and_every_reason_is_listed(self):
        result = evidence_rag(EvidenceInputs(slipped=[("Release", 90)], blocked=["Data"], at_risk=["Pretraining"]))
        self.assertEqual(result.rag, "red")
        self.assertEqual(len([r for r in result.reasons if "unknown" not in r]), 3)


class EvidenceFromTheScheduleTests(RoadmapTestCase):
    def test_the_api_shows_the_evidence_of_each_initiative(self):
        milestones.update_milestone(self.program_manager, self.pretraining, forecast_date=days(190))  # +70 days
        milestones.update_milestone(self.program_manager, self.consent, status="blocked")
        response = self.api(self.public_member).get("/api/initiatives/")
        evidence = {row["title"]: row["evidence"] for row in response.json()["results"]}
        self.assertEqual(evidence["Sovereign foundation model"]["rag"], "red")
        self.assertIn("“Pretraining run” has slipped 70 days", evidence["Sovereign foundation model"]["reasons"][0])
        self.assertEqual(evidence["Federated health data"]["rag"], "amber")
        self.assertIn("Blocked: “Consent framework”.", evidence["Federated health data"]["reasons"])
        self.assertIn(
            "Waiting on a blocked dependency: “Federated training”.", evidence["Federated health data"]["reasons"]
        )
        self.assertEqual(evidence["Federated health data"]["credit_burn"], "unknown")

    def test_a_done_milestone_that_slipped_no_longer_counts_against_the_initiative(self):
        milestones.update_milestone(self.program_manager, self.consent, forecast_date=days(-1), status="in_progress")
        self.assertEqual(selectors.initiative_evidence(self.health_initiative).rag, "amber")
        milestones.update_milestone(self.program_manager, self.consent, status="done")
        self.assertEqual(selectors.initiative_evidence(self.health_initiative).rag, "green")
