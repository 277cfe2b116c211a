"""Demo data of the governance app: SOPs, ballots on motions and SOPs (open, closed, one
deadlocked and followed by a second ballot) and meetings, one with approved minutes.

Everything goes through the services, as the pages would do it. Called by `seed_demo`
after the body itself exists; it adds `sops`, `ballots` and `meetings` to the context for the
seeders that follow.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from governance import services
from governance.choices import AttendanceStatus, MeetingStatus, Role, Rsvp, SOPCategory, SubjectType, VotingMethod
from governance.services import invitations

DECISION_MAKING = """1. Every decision of the Technical Governance Body is taken by ballot, counted sector by sector.
2. A ballot opens only when the committee is constituted: equal voting seats per sector, one co-chair each.
3. Quorum is reached in a sector when half of its eligible members take part; abstentions count to quorum.
4. Charters and large credit requests need a double majority; roadmap decisions a parity majority;
   changes to these procedures a double supermajority (two thirds in every sector).
5. Members whose organization is a party to a decision are recused; any member may declare a conflict before voting."""

CONFLICT_RESOLUTION = """1. A ballot on which the sectors disagree is deadlocked.
2. The two co-chairs consult within ten working days and report to the committee.
3. The subject may be put to a second ballot, linked to the first."""

CONFLICT_RESOLUTION_V2 = """1. A ballot on which the sectors disagree is deadlocked.
2. The two co-chairs consult within ten working days and may appoint an independent mediator.
3. The mediator's written opinion is circulated with the second ballot.
4. The subject may be put to a second ballot, linked to the first."""

PROGRESS_REPORTING = """1. Each initiative reports quarterly: RAG status, summary, risks.
2. The programme managers present the evidence-based status beside the reported one."""


def _decide(chair, ballot, votes: dict, closer):
    """Open a ballot, cast the given votes and close it."""
    ballot = services.open_ballot(chair, ballot)
    for person, choice in votes.items():
        services.cast_vote(person, ballot, choice)
    return services.close_ballot(closer, ballot)


def seed_demo(context: dict) -> None:
    committee = context["committee"]
    p = context["people"]
    ana, ben, carla, dev = p["ana.public"], p["ben.private"], p["carla.public"], p["dev.public"]
    erik, fatima, grace = p["erik.private"], p["fatima.private"], p["grace.secretary"]
    everyone_yes = {ana: "yes", carla: "yes", dev: "yes", ben: "yes", erik: "yes", fatima: "yes"}
    now = timezone.now()

    # Procedures: two in force, one of them with a revision on an open ballot, one still a draft.
    decision = services.create_sop(
        grace, committee=committee, title="Decision-making", category=SOPCategory.DECISION_MAKING, body=DECISION_MAKING
    )
    adopt_decision = _decide(ana, services.put_sop_version_to_ballot(grace, decision.versions.get()), everyone_yes, ben)
    conflict = services.create_sop(
        grace,
        committee=committee,
        title="Conflict resolution",
        category=SOPCategory.CONFLICT_RESOLUTION,
        body=CONFLICT_RESOLUTION,
    )
    _decide(ben, services.put_sop_version_to_ballot(grace, conflict.versions.get()), everyone_yes, ana)
    revision = services.draft_sop_version(
        grace, conflict, body=CONFLICT_RESOLUTION_V2, change_summary="Adds an independent mediator."
    )
    revision_ballot = services.open_ballot(
        ana, services.put_sop_version_to_ballot(grace, revision, closes_at=now + datetime.timedelta(days=4))
    )
    services.cast_vote(ana, revision_ballot, "yes")
    services.cast_vote(ben, revision_ballot, "yes")
    services.cast_vote(erik, revision_ballot, "no")
    reporting = services.create_sop(
        grace,
        committee=committee,
        title="Progress reporting",
        category=SOPCategory.PROGRESS_REPORTING,
        body=PROGRESS_REPORTING,
    )

    # Motions: one passed, one deadlocked and put to a second ballot, two open.
    calendar = _decide(
        ana,
        services.create_ballot(
            grace,
            committee=committee,
            title="Adopt the 2027 meeting calendar",
            subject_type=SubjectType.MOTION,
            description="Four ordinary meetings, in March, June, September and December.",
        ),
        {ana: "yes", carla: "yes", dev: "abstain", ben: "yes", erik: "no", fatima: "yes"},
        ben,
    )
    publish = services.create_ballot(
        grace,
        committee=committee,
        title="Publish per-member roll calls on the public website",
        subject_type=SubjectType.MOTION,
        method=VotingMethod.DOUBLE_MAJORITY,
        description="Roll-call votes would be published with the minutes, not only the per-sector tallies.",
    )
    publish = services.open_ballot(ben, publish)
    services.declare_conflict(fatima, publish, "Aurora Labs is negotiating the website contract.")
    for person, choice in {ana: "yes", carla: "yes", dev: "yes", ben: "no", erik: "no"}.items():
        services.cast_vote(person, publish, choice)
    publish = services.close_ballot(ana, publish)
    second = services.start_second_ballot(
        ana, publish, description="After the co-chairs' consultation: publication one month after each meeting."
    )
    services.declare_conflict(fatima, second, "Aurora Labs is negotiating the website contract.")
    working_group = services.open_ballot(
        ben,
        services.create_ballot(
            ana,
            committee=committee,
            title="Create a joint working group on evaluation benchmarks",
            subject_type=SubjectType.MOTION,
            closes_at=now + datetime.timedelta(days=3),
        ),
    )
    services.cast_vote(ana, working_group, "yes")
    services.cast_vote(erik, working_group, "yes")
    services.cast_vote(fatima, working_group, "abstain")
    budget = services.open_ballot(
        ana,
        services.create_ballot(
            grace,
            committee=committee,
            title="Approve the secretariat's travel budget",
            subject_type=SubjectType.MOTION,
            method=VotingMethod.DOUBLE_MAJORITY,
            closes_at=now + datetime.timedelta(hours=30),
        ),
    )
    services.cast_vote(dev, budget, "yes")

    # A past meeting with approved minutes, and the next one.
    past = services.schedule_meeting(
        grace,
        committee=committee,
        title="Ordinary meeting, autumn",
        starts_at=now - datetime.timedelta(days=14),
        location="Ministry of Digital Affairs, room 4.12",
    )
    services.add_agenda_item(grace, past, title="Minutes of the previous meeting")
    services.add_agenda_item(grace, past, title="Meeting calendar 2027", ballot=calendar)
    services.add_agenda_item(grace, past, title="Decision-making procedure", ballot=adopt_decision)
    services.add_agenda_item(grace, past, title="Publication of roll calls", ballot=publish)
    statuses = {ana: "present", ben: "present", carla: "present", dev: "remote", erik: "present", fatima: "excused"}
    for person, status in {**statuses, grace: AttendanceStatus.PRESENT}.items():
        services.record_attendance(grace, past, person, status)
    services.set_meeting_status(grace, past, MeetingStatus.HELD)
    services.draft_minutes(
        grace,
        past,
        "The co-chairs opened the meeting at 10:00 with a quorum in both sectors.\n\n"
        "The calendar for 2027 was adopted. The decision-making procedure was adopted by a double "
        "supermajority. The proposal to publish roll calls deadlocked: the public sector supported it, "
        "the private sector did not. The co-chairs will consult and may put it to a second ballot.",
    )
    services.approve_minutes(ana, past)

    upcoming = services.schedule_meeting(
        grace,
        committee=committee,
        title="Ordinary meeting, winter",
        starts_at=now + datetime.timedelta(days=10),
        location="Online",
    )
    services.add_agenda_item(grace, upcoming, title="Evaluation benchmarks working group", ballot=working_group)
    services.add_agenda_item(grace, upcoming, title="Conflict resolution procedure, version 2", ballot=revision_ballot)
    services.add_agenda_item(grace, upcoming, title="Publication of roll calls: second ballot", ballot=second)
    # Replies to its invitation, as the members' reply links record them (the rest have not answered).
    for person, reply in ((ana, Rsvp.ACCEPTED), (ben, Rsvp.ACCEPTED), (dev, Rsvp.TENTATIVE), (fatima, Rsvp.DECLINED)):
        invitations.reply_to_invitation(person, upcoming, reply)

    # Seats, once the committee has acted, change by consent (DESIGN.md 2.7): the secretary's
    # proposal to seat the private sector's staff researcher as an observer waits for both
    # co-chairs; Ana has consented, Ben has not yet.
    tara = p["tara.staff"]
    observer = services.propose_membership_change(
        grace,
        committee=committee,
        kind="seat",
        user=tara,
        organization=tara.organization,
        role=Role.OBSERVER,
        voting=False,
        reason="Helios Compute asks for an observer seat for its data steward.",
    )
    services.consent_to_membership_change(ana, observer)

    context["sops"] = {"decision_making": decision, "conflict_resolution": conflict, "progress_reporting": reporting}
    context["ballots"] = {
        "calendar": calendar,
        "publish": publish,
        "publish_second": second,
        "working_group": working_group,
        "budget": budget,
        "sop_revision": revision_ballot,
    }
    context["meetings"] = {"past": past, "upcoming": upcoming}
