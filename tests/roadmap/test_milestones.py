"""Milestones: dates, status, dependencies without cycles, flags and slippage rolled up."""

from django.core.exceptions import ValidationError

from governance.models import AuditEvent
from roadmap.choices import MilestoneStatus
from roadmap.services import milestones
from tests.roadmap.support import RoadmapTestCase, days


class DependencyTests(RoadmapTestCase):
    def test_a_dependency_cycle_is_refused_and_the_error_names_the_cycle(self):
        with self.assertRaisesMessage(
            ValidationError,
            "This dependency would create a cycle: “Training data pipeline” → “Open-weights release” → "
            "“Pretraining run” → “Training data pipeline” (each waits on the next).",
        ):
            milestones.update_milestone(self.program_manager, self.data, depends_on=[self.release])
        self.assertEqual(list(self.data.depends_on.all()), [])

    def test_the_api_refuses_a_cycle_with_400_and_a_clear_message(self):
        response = self.api(self.program_manager).patch(
            f"/api/milestones/{self.consent.pk}/", {"depends_on": [self.federation.pk]}
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("would create a cycle: “Consent framework” → “Federated training”", response.json()["detail"])

    def test_a_milestone_cannot_depend_on_itself(self):
        with self.assertRaisesMessage(ValidationError, "cannot depend on itself"):
            milestones.update_milestone(self.program_manager, self.data, depends_on=[self.data])

    def test_dependencies_across_initiatives_are_allowed_when_they_close_no_cycle(self):
        milestones.update_milestone(self.program_manager, self.release, depends_on=[self.pretraining, self.consent])
        self.assertEqual(set(self.release.depends_on.all()), {self.pretraining, self.consent})

    def test_a_forecast_earlier_than_a_dependency_forecast_is_flagged_not_refused(self):
        milestones.update_milestone(self.program_manager, self.data, forecast_date=days(130))
        response = self.api(self.public_member).get(f"/api/milestones/{self.pretraining.pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["dependency_conflicts"], [self.data.pk])
        self.assertEqual(
            self.api(self.public_member).get(f"/api/milestones/{self.data.pk}/").json()["dependency_conflicts"], []
        )

    def test_a_forecast_on_the_same_day_as_its_dependency_is_not_flagged(self):
        milestones.update_milestone(self.program_manager, self.data, forecast_date=days(120))
        self.assertEqual(self.pretraining.dependency_conflicts(), [])


class StatusTests(RoadmapTestCase):
    def test_marking_a_milestone_done_records_the_actual_date_and_full_progress(self):
        milestones.update_milestone(self.program_manager, self.data, status=MilestoneStatus.DONE)
        self.data.refresh_from_db()
        self.assertEqual(self.data.actual_date, days(0))
        self.assertEqual(self.data.percent_complete, 100)
        self.assertEqual(self.data.forecast_date, days(0), "a done milestone's forecast is what happened")
        self.assertEqual(self.data.slippage_days, -30)

    def test_an_open_milestone_cannot_have_an_actual_date(self):
        response = self.api(self.program_manager).patch(
            f"/api/milestones/{self.data.pk}/", {"actual_date": days(-1).isoformat()}
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("Only a done milestone has an actual date", response.json()["detail"])

    def test_a_milestone_cannot_be_done_in_the_future(self):
        response = self.api(self.program_manager).patch(
            f"/api/milestones/{self.data.pk}/", {"status": "done", "actual_date": days(3).isoformat()}
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("cannot be done in the future", response.json()["detail"])

    def test_percent_complete_is_between_0_and_100(self):
        response = self.api(self.program_manager).patch(f"/api/milestones/{self.data.pk}/", {"percent_complete": 140})
        self.assertEqual(response.status_code, 400)

    def test_every_change_is_in_the_audit_log(self):
        milestones.update_milestone(self.program_manager, self.data, forecast_date=days(45), status="at_risk")
        event = AuditEvent.objects.filter(verb="milestone.updated", object_id=str(self.data.pk)).last()
        self.assertEqual(event.changes["before"]["forecast_date"], days(30).isoformat())
        self.assertEqual(event.changes["after"]["forecast_date"], days(45).isoformat())
        self.assertEqual(event.actor, self.program_manager)


class SlippageTests(RoadmapTestCase):
    def test_slippage_is_forecast_minus_baseline_in_days(self):
        milestones.update_milestone(self.program_manager, self.pretraining, forecast_date=days(165))
        response = self.api(self.public_member).get(f"/api/milestones/{self.pretraining.pk}/")
        self.assertEqual(response.json()["slippage_days"], 45)

    def test_a_milestone_without_a_baseline_has_no_slippage(self):
        extra = milestones.create_milestone(
            self.program_manager, initiative=self.health_initiative, title="Pilot hospitals", forecast_date=days(90)
        )
        self.assertIsNone(extra.slippage_days)

    def test_slippage_rolls_up_per_initiative(self):
        milestones.update_milestone(self.program_manager, self.data, forecast_date=days(50))  # +20
        milestones.update_milestone(self.program_manager, self.pretraining, forecast_date=days(165))  # +45
        milestones.update_milestone(self.program_manager, self.release, forecast_date=days(195))  # −5
        response = self.api(self.public_member).get(f"/api/initiatives/{self.model_initiative.pk}/")
        self.assertEqual(
            response.json()["slippage"],
            {"milestones": 3, "baselined": 3, "slipped": 2, "worst_days": 45, "finish_days": -5},
        )
        health = self.api(self.public_member).get(f"/api/initiatives/{self.health_initiative.pk}/").json()
        self.assertEqual(health["slippage"]["worst_days"], 0)
        self.assertEqual(health["slippage"]["slipped"], 0)
