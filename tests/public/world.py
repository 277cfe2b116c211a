"""A body with a published history and, beside it, everything the public must never see, each
unpublished datum carrying a marker string the leak test looks for.

`publish_history(case, n)` adds n rounds of history, so the query-count tests can compare two
volumes of the same shapes.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from charters.choices import CharterStatus, DataClassification
from compute.choices import DecisionReason
from compute.services.credits import requests, usage
from compute.services.credits.usage_months import refresh_usage_months
from governance import services
from governance.choices import BallotStatus, MinutesStatus, SubjectType
from governance.models import AgendaItem, Ballot, Meeting, Minutes, Recusal
from governance.services.meetings import minutes_digest
from roadmap.choices import MilestoneStatus, RoadmapStatus
from roadmap.models import Initiative, Milestone, Roadmap
from tests.compute.credits import make_charter, make_world

D = Decimal

# Strings that only unpublished, restricted or per-person data carries.
MARKERS = (
    "SECRET-DRAFT-CHARTER",
    "SECRET-RESTRICTED-TITLE",
    "SECRET-RESTRICTED-SUMMARY",
    "SECRET-RESTRICTED-TERMS",
    "SECRET-UNDER-REVIEW",
    "SECRET-OPEN-BALLOT",
    "SECRET-DRAFT-BALLOT",
    "SECRET-DRAFT-MINUTES",
    "SECRET-DRAFT-ROADMAP",
    "SECRET-DRAFT-INITIATIVE",
    "SECRET-DRAFT-MILESTONE",
    "SECRET-JUSTIFICATION",
    "SECRET-DECISION-NOTE",
    "31337",  # a pending request's amount
    "@example.org",  # people's addresses
    "Zebulon",  # a voter whose committee publishes counts only
)

# What the published history shows, to check the pages are not empty.
PUBLISHED = ("Published motion", "Flood forecasting", "Approved minutes", "Published milestone")


def _closed_motion(case, title: str, reason: str) -> Ballot:
    ballot = case.motion(title)
    services.declare_conflict(case.private_member, ballot, reason)
    case.votes(ballot, public_chair="yes", public_member="no", private_chair="yes", zebulon="yes", yannick="no")
    return services.close_ballot(case.public_chair, ballot)


def _meeting(case, title: str, ballot: Ballot, body: str, status: str) -> Meeting:
    meeting = Meeting.objects.create(
        committee=case.committee, title=title, starts_at=timezone.now() - datetime.timedelta(days=2)
    )
    AgendaItem.objects.create(meeting=meeting, position=1, title=title, ballot=ballot)
    Minutes.objects.create(
        meeting=meeting,
        body=body,
        status=status,
        drafted_by=case.secretary,
        approved_by=case.public_chair if status == MinutesStatus.APPROVED else None,
        approved_at=timezone.now() if status == MinutesStatus.APPROVED else None,
        digest=minutes_digest(body) if status == MinutesStatus.APPROVED else "",
    )
    return meeting


def seat_counted_voters(case) -> None:
    """Two more voters, one per sector, whose names must never be published (counts only)."""
    zebulon = case.seat("zebulon", case.orgs.council)
    zebulon.first_name, zebulon.last_name = "Zebulon", "Quill"
    zebulon.save()
    case.zebulon = zebulon
    case.yannick = case.seat("yannick", case.orgs.helios)


def publish_history(case, rounds: int = 1) -> dict:
    """Rounds of published and unpublished history around the body of tests.base."""
    if not hasattr(case, "zebulon"):
        seat_counted_voters(case)
    world = getattr(case, "world", None) or make_world(case.body)
    case.world = world
    now = timezone.now()
    today = timezone.localdate()
    roadmap = Roadmap.objects.filter(status=RoadmapStatus.APPROVED).first() or Roadmap.objects.create(
        committee=case.committee,
        version=1,
        title="Published roadmap",
        starts_on=today - datetime.timedelta(days=60),
        ends_on=today + datetime.timedelta(days=600),
        status=RoadmapStatus.APPROVED,
        approved_at=now,
    )
    draft_roadmap = Roadmap.objects.filter(status=RoadmapStatus.DRAFT).first() or Roadmap.objects.create(
        committee=case.committee,
        version=2,
        title="SECRET-DRAFT-ROADMAP",
        starts_on=today,
        ends_on=today + datetime.timedelta(days=600),
    )
    for n in range(rounds):
        i = Ballot.objects.count()
        # Charters: published ones, a restricted one, a draft, one under review.
        public = make_charter(case.body, f"Flood forecasting {i}", lead=case.orgs.council, status=CharterStatus.ACTIVE)
        public.participating_organizations.add(case.orgs.helios)
        restricted = make_charter(
            case.body,
            f"SECRET-RESTRICTED-TITLE {i}",
            lead=case.orgs.helios,
            status=CharterStatus.ACTIVE,
            data_classification=DataClassification.RESTRICTED,
            licence_terms="SECRET-RESTRICTED-TERMS",
            objectives="SECRET-RESTRICTED-SUMMARY objectives",
        )
        restricted.summary = "SECRET-RESTRICTED-SUMMARY"
        restricted.save()
        make_charter(case.body, f"SECRET-DRAFT-CHARTER {i}", lead=case.orgs.council, status=CharterStatus.DRAFT)
        make_charter(case.body, f"SECRET-UNDER-REVIEW {i}", lead=case.orgs.council, status=CharterStatus.UNDER_REVIEW)

        # Ballots: closed ones (one decided at a meeting with approved minutes, one at a meeting
        # whose minutes are still a draft, one on the restricted charter), an open one, a draft.
        closed = _closed_motion(case, f"Published motion {i}", f"Helios is a party {i}.")
        other = _closed_motion(case, f"Published motion {i}b", f"Helios again {i}.")
        _meeting(case, f"Meeting {i}", closed, f"Approved minutes {i}.", MinutesStatus.APPROVED)
        _meeting(case, f"Meeting {i}b", other, f"SECRET-DRAFT-MINUTES {i}", MinutesStatus.DRAFT)
        restricted_ballot = Ballot.objects.create(
            committee=case.committee,
            title=f"Approve SECRET-RESTRICTED-TITLE {i}",
            description="SECRET-RESTRICTED-SUMMARY",
            subject_type=SubjectType.CHARTER,
            subject_id=restricted.pk,
            method=closed.method,
            quorum=closed.quorum,
            status=BallotStatus.CLOSED,
            outcome=closed.outcome,
            result=closed.result,
            opened_at=closed.opened_at,
            closed_at=timezone.now(),
        )
        Recusal.objects.create(
            ballot=restricted_ballot,
            user=case.private_member,
            organization=case.orgs.helios,
            sector=case.orgs.helios.sector,
            reason="We work on SECRET-RESTRICTED-SUMMARY ourselves.",
        )
        still_open = case.motion(f"SECRET-OPEN-BALLOT {i}")
        case.votes(still_open, public_chair="yes")
        case.motion(f"SECRET-DRAFT-BALLOT {i}", opened=False)

        # Credit requests: awarded in part with a reason, one on the restricted charter, a draft
        # and a pending one.
        def request(charter, amount, *, by=case.staff, submit=True):
            return requests.create_request(
                by,
                charter=charter,
                resource=world["gpu"],
                pool=world["pool"],
                amount=D(amount),
                justification="SECRET-JUSTIFICATION",
                submit=submit,
            )

        def award(credit_request, amount, reason=""):
            for chair in (case.public_chair, case.private_chair):
                requests.sign_request(
                    chair, credit_request, amount=D(amount), reason_code=reason, note="SECRET-DECISION-NOTE"
                )

        award(request(public, "4000"), "2500", DecisionReason.SCOPE_REDUCED)
        award(request(restricted, "3000", by=case.private_staff), "3000")
        request(public, "31337", submit=False)
        request(public, "31337")

        # Usage: hours of two charters, published only as monthly sums.
        for hours_ago, charter in ((3 + n, public), (5 + n, restricted)):
            usage.post_usage(
                source="test",
                resource=world["gpu"],
                charter=charter,
                hour=(now - datetime.timedelta(hours=hours_ago)).replace(minute=0, second=0, microsecond=0),
                unit_hours=D("4"),
            )

        # Roadmap: a milestone of the approved roadmap, one of an initiative only the draft holds.
        initiative = Initiative.objects.create(
            title=f"Published initiative {i}", starts_on=today, national_impact_score=3
        )
        roadmap.initiatives.add(initiative)
        Milestone.objects.create(
            initiative=initiative,
            title=f"Published milestone {i}",
            baseline_date=today + datetime.timedelta(days=30),
            forecast_date=today + datetime.timedelta(days=40),
            status=MilestoneStatus.IN_PROGRESS,
        )
        hidden = Initiative.objects.create(
            title=f"SECRET-DRAFT-INITIATIVE {i}", starts_on=today, national_impact_score=2
        )
        draft_roadmap.initiatives.add(hidden)
        Milestone.objects.create(
            initiative=hidden, title=f"SECRET-DRAFT-MILESTONE {i}", forecast_date=today + datetime.timedelta(days=50)
        )
    refresh_usage_months()
    return world
