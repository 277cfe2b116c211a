"""What a ballot asks of the roadmap: roadmap.ballots, the `roadmap` subject type."""

from django.urls import reverse

from governance import services as governance
from governance.exceptions import DomainError
from governance.subjects import subject_module
from roadmap import ballots
from roadmap.choices import RebaselineStatus, RoadmapStatus
from roadmap.models import Roadmap
from roadmap.services import baselines, initiatives, milestones, roadmaps
from tests.roadmap.support import RoadmapTestCase, days


class RoadmapSubjectTests(RoadmapTestCase):
    def test_the_governance_app_finds_this_module_for_roadmap_ballots(self):
        self.assertIs(subject_module("roadmap"), ballots)

    def test_the_subject_is_the_roadmap_version(self):
        self.assertEqual(ballots.get_subject(self.roadmap.pk), self.roadmap)
        self.assertEqual(ballots.get_subject(self.roadmap.pk, for_update=True), self.roadmap)
        with self.assertRaises(Roadmap.DoesNotExist):
            ballots.get_subject(999_999)

    def test_nobody_is_recused_automatically_from_the_joint_roadmap(self):
        self.assertEqual(ballots.parties(self.roadmap), set())

    def test_a_draft_with_initiatives_and_milestones_can_be_put_to_a_ballot(self):
        ballots.check_can_open(self.roadmap)
        self.assertEqual(ballots.describe(self.roadmap), "Roadmap v1: Joint R&D roadmap 2026–2027")
        self.assertEqual(ballots.url(self.roadmap), reverse("roadmap:roadmap-detail", args=[self.roadmap.pk]))

    def test_an_empty_draft_cannot_be_put_to_a_ballot(self):
        empty = roadmaps.create_roadmap(
            self.program_manager, committee=self.committee, title="Empty", starts_on=days(0), ends_on=days(30)
        )
        with self.assertRaisesMessage(DomainError, "holds no initiative yet"):
            ballots.check_can_open(empty)

    def test_a_draft_with_an_initiative_without_milestones_cannot_be_put_to_a_ballot(self):
        initiatives.create_initiative(
            self.program_manager,
            title="Compute sovereignty",
            national_impact_score=3,
            starts_on=days(0),
            roadmap=self.roadmap,
        )
        with self.assertRaisesMessage(DomainError, "These initiatives have no milestone yet: Compute sovereignty."):
            ballots.check_can_open(self.roadmap)

    def test_a_passed_ballot_approves_the_draft(self):
        ballot = self.decide(self.roadmap)
        self.roadmap.refresh_from_db()
        self.assertEqual(self.roadmap.status, RoadmapStatus.APPROVED)
        self.assertEqual(self.roadmap.approval_ballot, ballot)
        self.assertEqual(ballot.subject_title, "Roadmap v1: Joint R&D roadmap 2026–2027")

    def test_a_rejected_or_deadlocked_ballot_leaves_the_draft_a_draft(self):
        for outcome in ("rejected", "deadlocked", "no_quorum"):
            with self.subTest(outcome=outcome):
                self.decide(self.roadmap, outcome)
                self.roadmap.refresh_from_db()
                self.assertEqual(self.roadmap.status, RoadmapStatus.DRAFT)
                self.assertFalse(self.roadmap.baselines.exists())

    def test_approval_needs_a_passed_ballot(self):
        rejected = self.decide(self.roadmap, "rejected")
        with self.assertRaisesMessage(DomainError, "Only a passed ballot on roadmap v1 can approve it."):
            roadmaps.approve_roadmap(self.program_manager, self.roadmap, rejected)
        with self.assertRaisesMessage(DomainError, "Only a passed ballot on roadmap v1 can approve it."):
            roadmaps.approve_roadmap(self.program_manager, self.roadmap, self.decide(None, subject_type="motion"))

    def test_an_approved_roadmap_opens_a_ballot_only_for_a_pending_rebaselining(self):
        roadmap = self.approve()
        with self.assertRaisesMessage(DomainError, "is already approved. To change its committed dates, propose"):
            ballots.check_can_open(roadmap)
        milestones.update_milestone(self.program_manager, self.data, forecast_date=days(44))
        baselines.propose_rebaseline(self.program_manager, roadmap, name="Data replan", reason="Late vendor")
        ballots.check_can_open(roadmap)
        self.assertEqual(ballots.describe(roadmap), "Roadmap v1: re-baselining 'Data replan'")

    def test_a_superseded_version_cannot_be_put_to_a_ballot(self):
        v1 = self.approve()
        self.approve(roadmaps.draft_next_version(self.program_manager, v1))
        v1.refresh_from_db()
        with self.assertRaisesMessage(DomainError, "is superseded"):
            ballots.check_can_open(v1)

    def test_superseding_withdraws_a_pending_rebaselining_of_the_old_version(self):
        v1 = self.approve()
        milestones.update_milestone(self.program_manager, self.data, forecast_date=days(44))
        request = baselines.propose_rebaseline(self.program_manager, v1, name="Data replan", reason="Late vendor")
        self.approve(roadmaps.draft_next_version(self.program_manager, v1))
        request.refresh_from_db()
        self.assertEqual(request.status, RebaselineStatus.WITHDRAWN)

    def test_a_rebaselining_ballot_that_closes_after_its_version_was_superseded_changes_nothing(self):
        v1 = self.approve()
        milestones.update_milestone(self.program_manager, self.data, forecast_date=days(44))
        request = baselines.propose_rebaseline(self.program_manager, v1, name="Data replan", reason="Late vendor")
        chair = self.public_chair
        late = governance.open_ballot(
            chair,
            governance.create_ballot(
                chair, committee=self.committee, title="Re-baseline", subject_type="roadmap", subject_id=v1.pk
            ),
        )
        for voter in (self.public_chair, self.private_chair, self.public_member, self.private_member):
            governance.cast_vote(voter, late, "yes")
        self.approve(roadmaps.draft_next_version(self.program_manager, v1))
        late = governance.close_ballot(chair, late)
        self.assertEqual(late.outcome, "passed")
        request.refresh_from_db()
        self.assertEqual(request.status, RebaselineStatus.WITHDRAWN)
        self.assertEqual(v1.baselines.count(), 1)
        self.data.refresh_from_db()
        self.assertEqual(self.data.baseline_date, days(30))

    def test_no_ballot_opens_on_a_superseded_version(self):
        v1 = self.approve()
        self.approve(roadmaps.draft_next_version(self.program_manager, v1))
        with self.assertRaisesMessage(DomainError, "is superseded"):
            self.decide(v1)

    def test_a_draft_does_not_change_while_its_ballot_is_open(self):
        ballot = governance.create_ballot(
            self.public_chair,
            committee=self.committee,
            title="Approve",
            subject_type="roadmap",
            subject_id=self.roadmap.pk,
        )
        governance.open_ballot(self.public_chair, ballot)
        with self.assertRaisesMessage(DomainError, "A ballot on this draft is open"):
            roadmaps.update_roadmap(self.program_manager, self.roadmap, title="Changed under the voters")
        with self.assertRaisesMessage(DomainError, "its planned dates are frozen"):
            milestones.update_milestone(self.program_manager, self.data, baseline_date=days(31))
        milestones.update_milestone(self.program_manager, self.data, forecast_date=days(33))  # forecasts still move

    def test_a_pending_rebaselining_is_not_withdrawn_while_its_ballot_is_open(self):
        roadmap = self.approve()
        milestones.update_milestone(self.program_manager, self.data, forecast_date=days(44))
        request = baselines.propose_rebaseline(self.program_manager, roadmap, name="Data replan", reason="Vendor")
        ballot = governance.create_ballot(
            self.public_chair,
            committee=self.committee,
            title="Re-baseline",
            subject_type="roadmap",
            subject_id=roadmap.pk,
        )
        governance.open_ballot(self.public_chair, ballot)
        with self.assertRaisesMessage(DomainError, "cannot be withdrawn now"):
            baselines.withdraw_rebaseline(self.program_manager, request)
