"""A small joint roadmap for the roadmap tests, planned by Paula, the program manager.

Two initiatives: the sovereign foundation model (owned by Sam, sponsored by the ministry and
Northwind) with data → pretraining → release in a dependency chain, and federated health data
(owned by Tara, sponsored by the council and Helios) whose federation waits on both consent and
the model's data pipeline.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from django.utils import timezone

from governance import services as governance
from governance.choices import BallotStatus
from roadmap.choices import MilestoneStatus
from roadmap.services import initiatives, milestones, roadmaps
from tests.base import PortalTestCase

# How the four voting members of tests.base vote for a ballot to end in each outcome
# (parity majority: each sector weighs the same).
VOTES = {
    "passed": {"public_chair": "yes", "public_member": "yes", "private_chair": "yes", "private_member": "yes"},
    "rejected": {"public_chair": "no", "public_member": "no", "private_chair": "no", "private_member": "no"},
    "deadlocked": {"public_chair": "yes", "public_member": "yes", "private_chair": "no", "private_member": "no"},
    "no_quorum": {},
}


def run_ballot(body, subject, outcome: str = "passed", *, subject_type: str = "roadmap", title: str = ""):
    """A real ballot of the committee on `subject`, voted to end in `outcome`, and closed by both
    co-chairs (before everyone has voted, closing early needs both sectors). Closing applies the
    outcome: governance calls roadmap.ballots.apply_outcome."""
    chair = body.public_chair
    ballot = governance.create_ballot(
        chair,
        committee=body.committee,
        title=title or f"Decide {subject or 'the motion'}",
        subject_type=subject_type,
        subject_id=subject.pk if subject is not None else None,
    )
    ballot = governance.open_ballot(chair, ballot)
    for persona, choice in VOTES[outcome].items():
        governance.cast_vote(getattr(body, persona), ballot, choice)
    ballot = governance.close_ballot(chair, ballot)
    if ballot.status != BallotStatus.CLOSED:
        ballot = governance.close_ballot(body.private_chair, ballot)
    assert ballot.outcome == outcome, ballot.result
    return ballot


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def add_milestone(body, initiative, title, in_days, depends_on=(), **fields):
    """A milestone planned (baseline and forecast) `in_days` from today."""
    return milestones.create_milestone(
        body.program_manager,
        initiative=initiative,
        title=title,
        baseline_date=days(in_days),
        forecast_date=days(in_days),
        status=fields.pop("status", MilestoneStatus.PLANNED),
        depends_on=depends_on,
        **fields,
    )


def plan_roadmap(body) -> SimpleNamespace:
    """Paula plans the draft roadmap of this module's docstring for the body of tests.base."""
    pm = body.program_manager
    plan = SimpleNamespace()
    plan.foundation = initiatives.create_theme(pm, name="Sovereign foundation model", slug="foundation-model")
    plan.health = initiatives.create_theme(pm, name="Federated health data", slug="health-data")
    plan.model_initiative = initiatives.create_initiative(
        pm,
        title="Sovereign foundation model",
        national_impact_score=5,
        priority="critical",
        starts_on=days(-120),
        owner=body.staff,
        themes=[plan.foundation],
        sponsors=[body.orgs.ministry, body.orgs.northwind],
    )
    plan.health_initiative = initiatives.create_initiative(
        pm,
        title="Federated health data",
        national_impact_score=4,
        priority="high",
        starts_on=days(-60),
        owner=body.private_staff,
        themes=[plan.health],
        sponsors=[body.orgs.council, body.orgs.helios],
    )
    plan.roadmap = roadmaps.create_roadmap(
        pm,
        committee=body.committee,
        title="Joint R&D roadmap 2026–2027",
        starts_on=days(-120),
        ends_on=days(600),
        initiatives=[plan.model_initiative, plan.health_initiative],
    )
    plan.data = add_milestone(body, plan.model_initiative, "Training data pipeline", 30)
    plan.pretraining = add_milestone(body, plan.model_initiative, "Pretraining run", 120, depends_on=[plan.data])
    plan.release = add_milestone(
        body, plan.model_initiative, "Open-weights release", 200, depends_on=[plan.pretraining]
    )
    plan.consent = add_milestone(body, plan.health_initiative, "Consent framework", 60)
    plan.federation = add_milestone(
        body, plan.health_initiative, "Federated training", 150, depends_on=[plan.consent, plan.data]
    )
    return plan


class RoadmapTestCase(PortalTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        for name, value in vars(plan_roadmap(cls.body)).items():
            setattr(cls, name, value)

    @classmethod
    def milestone(cls, initiative, title, in_days, depends_on=(), **fields):
        return add_milestone(cls.body, initiative, title, in_days, depends_on, **fields)

    def decide(self, subject, outcome: str = "passed", **options):
        """Put the subject to a real ballot that ends in `outcome`; returns the closed ballot."""
        return run_ballot(self.body, subject, outcome, **options)

    def approve(self, roadmap=None):
        """Approve the draft by a passed ballot."""
        roadmap = roadmap or self.roadmap
        self.decide(roadmap)
        roadmap.refresh_from_db()
        return roadmap
