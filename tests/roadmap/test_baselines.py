"""Baselines: named, immutable snapshots taken only when a passed ballot approves a version or
adopts a re-baselining; comparisons between them and with today's forecast."""

from django.db import DatabaseError, connection, transaction

from governance.exceptions import DomainError
from governance.models import AuditEvent
from governance.models.base import AppendOnlyError
from roadmap import ballots
from roadmap.choices import BaselineKind, RebaselineStatus, RoadmapStatus
from roadmap.models import Baseline, BaselineEntry, Milestone
from roadmap.services import baselines, milestones, roadmaps
from tests.roadmap.support import RoadmapTestCase, days


class ApprovalBaselineTests(RoadmapTestCase):
    def test_approving_a_roadmap_takes_its_first_named_baseline_of_every_milestone(self):
        roadmap = self.approve()
        self.assertEqual(roadmap.status, RoadmapStatus.APPROVED)
        baseline = roadmap.baselines.get()
        self.assertEqual(baseline.name, "v1 approved")
        self.assertEqual(baseline.kind, BaselineKind.APPROVAL)
        self.assertEqual(baseline.ballot_id, roadmap.approval_ballot_id)
        self.assertEqual(
            {(e.milestone_id, e.baseline_date) for e in baseline.entries.all()},
            {(m.pk, m.baseline_date) for m in Milestone.objects.all()},
        )

    def test_a_milestone_planned_without_a_baseline_date_is_baselined_at_its_forecast(self):
        extra = milestones.create_milestone(
            self.program_manager, initiative=self.health_initiative, title="Pilot hospitals", forecast_date=days(90)
        )
        self.approve()
        extra.refresh_from_db()
        self.assertEqual(extra.baseline_date, days(90))

    def test_approving_the_next_version_supersedes_the_approved_one(self):
        v1 = self.approve()
        v2 = roadmaps.draft_next_version(self.program_manager, v1, title="Joint R&D roadmap, revised")
        self.assertEqual(v2.version, 2)
        self.assertEqual(set(v2.initiatives.all()), set(v1.initiatives.all()))
        self.approve(v2)
        v1.refresh_from_db()
        self.assertEqual(v1.status, RoadmapStatus.SUPERSEDED)
        self.assertEqual(v2.status, RoadmapStatus.APPROVED)
        self.assertTrue(AuditEvent.objects.filter(verb="roadmap.superseded", object_id=str(v1.pk)).exists())

    def test_approving_a_new_version_keeps_the_committed_dates_of_baselined_milestones(self):
        v1 = self.approve()
        milestones.update_milestone(self.program_manager, self.pretraining, forecast_date=days(170))
        v2 = self.approve(roadmaps.draft_next_version(self.program_manager, v1))
        entry = v2.baselines.get().entries.get(milestone=self.pretraining)
        self.assertEqual(entry.baseline_date, days(120))
        self.assertEqual(entry.forecast_date, days(170))

    def test_an_approved_version_no_longer_changes(self):
        roadmap = self.approve()
        response = self.api(self.program_manager).patch(f"/api/roadmaps/{roadmap.pk}/", {"title": "Renamed"})
        self.assertEqual(response.status_code, 409)
        self.assertIn("only a draft changes", response.json()["detail"])


class ImmutabilityTests(RoadmapTestCase):
    def setUp(self):
        self.approve()
        self.baseline = Baseline.objects.get()

    def test_a_baseline_cannot_be_saved_again(self):
        self.baseline.name = "Something else"
        with self.assertRaises(AppendOnlyError):
            self.baseline.save()

    def test_a_baseline_or_entry_cannot_be_deleted(self):
        with self.assertRaises(AppendOnlyError):
            self.baseline.delete()
        with self.assertRaises(AppendOnlyError):
            BaselineEntry.objects.filter(baseline=self.baseline).delete()

    def test_bulk_updates_of_entries_are_refused(self):
        with self.assertRaises(AppendOnlyError):
            BaselineEntry.objects.filter(baseline=self.baseline).update(baseline_date=days(999))

    def test_the_database_refuses_an_update_that_bypasses_the_models(self):
        with self.assertRaises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE roadmap_baselineentry SET baseline_date = %s", [days(999)])
        self.assertIn("immutable", str(caught.exception))

    def test_the_api_offers_no_way_to_change_a_baseline(self):
        client = self.api(self.admin)
        self.assertEqual(client.patch(f"/api/baselines/{self.baseline.pk}/", {"name": "x"}).status_code, 405)
        self.assertEqual(client.delete(f"/api/baselines/{self.baseline.pk}/").status_code, 405)
        self.assertEqual(client.post("/api/baselines/", {"name": "x"}).status_code, 405)

    def test_a_baselined_milestone_date_changes_only_by_rebaselining(self):
        response = self.api(self.program_manager).patch(
            f"/api/milestones/{self.data.pk}/", {"baseline_date": days(60).isoformat()}
        )
        self.assertEqual(response.status_code, 409)
        self.assertIn("changes only by re-baselining, which needs a passed ballot", response.json()["detail"])
        self.data.refresh_from_db()
        self.assertEqual(self.data.baseline_date, days(30))

    def test_the_forecast_of_a_baselined_milestone_moves_freely(self):
        response = self.api(self.program_manager).patch(
            f"/api/milestones/{self.data.pk}/", {"forecast_date": days(60).isoformat()}
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["slippage_days"], 30)


class RebaseliningTests(RoadmapTestCase):
    def setUp(self):
        self.roadmap = self.approve()
        milestones.update_milestone(self.program_manager, self.pretraining, forecast_date=days(170))
        milestones.update_milestone(self.program_manager, self.release, forecast_date=days(250))
        self.request = baselines.propose_rebaseline(
            self.program_manager,
            self.roadmap,
            name="After the GPU delivery delay",
            reason="The cluster arrived seven weeks late.",
        )

    def test_a_proposal_takes_todays_forecasts_unless_told_otherwise(self):
        proposed = {e.milestone_id: (e.previous_date, e.proposed_date) for e in self.request.entries.all()}
        self.assertEqual(proposed[self.pretraining.pk], (days(120), days(170)))
        self.assertEqual(proposed[self.data.pk], (days(30), days(30)))

    def test_rebaselining_is_refused_without_a_passed_ballot(self):
        for outcome in ("deadlocked", "no_quorum", "rejected"):
            ballot = self.decide(self.roadmap, outcome)
            with self.subTest(outcome=outcome), self.assertRaisesMessage(DomainError, "Only a passed ballot"):
                baselines.adopt_rebaseline(self.program_manager, self.request, ballot)
        with self.assertRaisesMessage(DomainError, "Only a passed ballot"):
            baselines.adopt_rebaseline(self.program_manager, self.request, None)
        self.assertEqual(self.roadmap.baselines.count(), 1)
        self.pretraining.refresh_from_db()
        self.assertEqual(self.pretraining.baseline_date, days(120))

    def test_a_ballot_on_another_subject_cannot_rebaseline(self):
        motion = self.decide(None, subject_type="motion")
        with self.assertRaisesMessage(DomainError, "Only a passed ballot on roadmap v1"):
            baselines.adopt_rebaseline(self.program_manager, self.request, motion)

    def test_a_passed_ballot_adopts_the_new_named_baseline_and_moves_the_committed_dates(self):
        ballot = self.decide(self.roadmap)
        self.assertEqual(ballot.subject_title, "Roadmap v1: re-baselining 'After the GPU delivery delay'")
        self.request.refresh_from_db()
        self.assertEqual(self.request.status, RebaselineStatus.ADOPTED)
        self.assertEqual(self.request.ballot, ballot)
        baseline = self.roadmap.baselines.get(name="After the GPU delivery delay")
        self.assertEqual(baseline.kind, BaselineKind.REBASELINE)
        self.assertEqual(baseline.reason, "The cluster arrived seven weeks late.")
        self.pretraining.refresh_from_db()
        self.assertEqual(self.pretraining.baseline_date, days(170))
        self.assertEqual(self.pretraining.slippage_days, 0)
        self.assertEqual(
            self.roadmap.baselines.get(name="v1 approved").entries.get(milestone=self.pretraining).baseline_date,
            days(120),
            "the earlier baseline keeps its dates",
        )

    def test_a_rejected_ballot_rejects_the_proposal_and_keeps_the_dates(self):
        self.decide(self.roadmap, "rejected")
        self.request.refresh_from_db()
        self.assertEqual(self.request.status, RebaselineStatus.REJECTED)
        self.assertEqual(self.roadmap.baselines.count(), 1)

    def test_a_deadlock_leaves_the_proposal_pending_for_a_further_ballot(self):
        self.decide(self.roadmap, "deadlocked")
        self.request.refresh_from_db()
        self.assertEqual(self.request.status, RebaselineStatus.PROPOSED)
        ballots.check_can_open(self.roadmap)  # a second ballot may open

    def test_only_one_rebaselining_is_pending_at_a_time(self):
        with self.assertRaisesMessage(DomainError, "is already pending"):
            baselines.propose_rebaseline(self.program_manager, self.roadmap, name="Another", reason="Why not")

    def test_a_draft_is_not_rebaselined(self):
        draft = roadmaps.draft_next_version(self.program_manager, self.roadmap)
        response = self.api(self.program_manager).post(
            "/api/rebaseline-requests/", {"roadmap": draft.pk, "name": "Early", "reason": "Because"}
        )
        self.assertEqual(response.status_code, 409)
        self.assertIn("Only the approved roadmap is re-baselined", response.json()["detail"])

    def test_a_proposal_that_changes_nothing_is_refused(self):
        baselines.withdraw_rebaseline(self.program_manager, self.request)
        milestones.update_milestone(self.program_manager, self.pretraining, forecast_date=days(120))
        milestones.update_milestone(self.program_manager, self.release, forecast_date=days(200))
        with self.assertRaisesMessage(Exception, "changes no committed date"):
            baselines.propose_rebaseline(self.program_manager, self.roadmap, name="Same", reason="Nothing moved")

    def test_the_api_proposes_chosen_dates_and_withdraws(self):
        baselines.withdraw_rebaseline(self.program_manager, self.request)
        client = self.api(self.program_manager)
        response = client.post(
            "/api/rebaseline-requests/",
            {
                "roadmap": self.roadmap.pk,
                "name": "Q3 replan",
                "reason": "Pretraining moves; the release holds.",
                "dates": {str(self.release.pk): days(200).isoformat()},
            },
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.json())
        entries = {e["milestone"]: e["proposed_date"] for e in response.json()["entries"]}
        self.assertEqual(entries[self.release.pk], days(200).isoformat())
        self.assertEqual(entries[self.pretraining.pk], days(170).isoformat())
        withdrawn = client.post(f"/api/rebaseline-requests/{response.json()['id']}/withdraw/")
        self.assertEqual(withdrawn.status_code, 200)
        self.assertEqual(withdrawn.json()["status"], "withdrawn")

    def test_members_cannot_propose_a_rebaselining(self):
        response = self.api(self.public_chair).post(
            "/api/rebaseline-requests/", {"roadmap": self.roadmap.pk, "name": "Mine", "reason": "Because"}
        )
        self.assertEqual(response.status_code, 403)


class ComparisonTests(RoadmapTestCase):
    def setUp(self):
        self.roadmap = self.approve()
        milestones.update_milestone(self.program_manager, self.pretraining, forecast_date=days(170))
        request = baselines.propose_rebaseline(self.program_manager, self.roadmap, name="Replan", reason="Delay")
        self.decide(self.roadmap)
        self.first, self.second = request.roadmap.baselines.order_by("created_at", "pk")
        milestones.update_milestone(self.program_manager, self.release, forecast_date=days(230))

    def test_two_baselines_compare_milestone_by_milestone(self):
        response = self.api(self.public_member).get(f"/api/baselines/{self.first.pk}/compare/?with={self.second.pk}")
        self.assertEqual(response.status_code, 200)
        rows = {row["milestone"]: row for row in response.json()}
        self.assertEqual(rows[self.pretraining.pk]["delta_days"], 50)
        self.assertEqual(rows[self.pretraining.pk]["change"], "later")
        self.assertEqual(rows[self.data.pk]["change"], "unchanged")

    def test_a_baseline_compares_with_todays_forecast(self):
        response = self.api(self.public_member).get(f"/api/baselines/{self.second.pk}/compare/")
        rows = {row["milestone"]: row for row in response.json()}
        self.assertEqual(rows[self.release.pk]["before"], days(200).isoformat())
        self.assertEqual(rows[self.release.pk]["after"], days(230).isoformat())
        self.assertEqual(rows[self.release.pk]["delta_days"], 30)
        self.assertEqual(rows[self.pretraining.pk]["delta_days"], 0)

    def test_a_milestone_added_since_shows_as_added(self):
        extra = milestones.create_milestone(
            self.program_manager, initiative=self.health_initiative, title="Pilot hospitals", forecast_date=days(90)
        )
        response = self.api(self.public_member).get(f"/api/baselines/{self.second.pk}/compare/?with=forecast")
        rows = {row["milestone"]: row for row in response.json()}
        self.assertEqual(rows[extra.pk]["change"], "added")
        self.assertIsNone(rows[extra.pk]["delta_days"])

    def test_comparing_with_a_bad_id_is_a_400(self):
        response = self.api(self.public_member).get(f"/api/baselines/{self.second.pk}/compare/?with=abc")
        self.assertEqual(response.status_code, 400)
        # A superscript two passes str.isdigit() but is no number for int().
        response = self.api(self.public_member).get(f"/api/baselines/{self.second.pk}/compare/?with=\u00b2")
        self.assertEqual(response.status_code, 400)
        self.assertIn("baseline id", response.json()["detail"])
