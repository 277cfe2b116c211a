"""Demo data of the roadmap: a two-year joint roadmap approved by a real ballot, five initiatives
with milestones that slipped and milestones on time, a re-baselining adopted by a second ballot
(so two baselines), progress reports (some greener than the evidence), and a draft v2.

Everything goes through roadmap.services and the governance ballot services, as on the pages.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from charters.models import Charter
from governance import services as governance
from roadmap import planning
from roadmap.choices import MilestoneStatus, RoadmapStatus
from roadmap.services import baselines, initiatives, milestones, reports, roadmaps

VOTERS = ("ana.public", "ben.private", "carla.public", "dev.public", "erik.private", "fatima.private")

THEMES = [
    ("Sovereign foundation model", "sovereign-foundation-model"),
    ("Federated health data", "federated-health-data"),
    ("Public services", "public-services"),
    ("Compute sovereignty", "compute-sovereignty"),
    ("Trustworthy AI", "trustworthy-ai"),
]

# title, summary, impact, priority, themes, sponsors, owner, start (days from today), the titles of its own charters,
# milestones: (title, planned day, status, percent, day done or forecast now, depends on titles, deliverables)
INITIATIVES = [
    (
        "Sovereign foundation model",
        "An open-weights language model trained on the national corpus, under joint IP.",
        5,
        "critical",
        ["sovereign-foundation-model", "trustworthy-ai"],
        ["MDA", "Northwind", "Helios"],
        "sam.staff",
        -300,
        ["Sovereign language model for public services"],
        [
            ("National text corpus", -200, "done", 100, -186, [], "Corpus card\nLicence register"),
            ("Tokenizer and data pipeline", -120, "done", 100, -121, ["National text corpus"], "Tokenizer v1"),
            ("Pretraining run (7B)", 40, "in_progress", 55, 85, ["Tokenizer and data pipeline"], "Checkpoints"),
            ("Safety and bias evaluation", 130, "planned", 0, 175, ["Pretraining run (7B)"], "Evaluation report"),
            ("Open-weights release", 220, "planned", 0, 250, ["Safety and bias evaluation"], "Model card\nWeights"),
        ],
    ),
    (
        "Federated health data",
        "Train diagnostic models across hospitals without moving patient records.",
        5,
        "high",
        ["federated-health-data"],
        ["PHDA", "Aurora"],
        "tara.staff",
        -260,
        ["Federated triage model"],
        [
            ("Consent framework", -150, "done", 100, -150, [], "Consent form\nDPIA"),
            ("Federated node pilot (3 hospitals)", 20, "at_risk", 60, 45, ["Consent framework"], "Pilot report"),
            ("Cross-border data audit", 60, "blocked", 20, 60, ["Consent framework"], "Audit findings"),
            (
                "Federated diagnostic model",
                200,
                "planned",
                0,
                215,
                ["Federated node pilot (3 hospitals)", "Pretraining run (7B)"],
                "Model v1",
            ),
        ],
    ),
    (
        "AI assistants for public services",
        "Assistants that help caseworkers answer citizens faster, with a human in the loop.",
        4,
        "high",
        ["public-services"],
        ["MDA", "NRC", "Northwind"],
        "paula.pm",
        -240,
        ["Chatbot for benefit enquiries", "Public service demand planning"],
        [
            ("Procurement framework", -160, "done", 100, -165, [], "Framework agreement"),
            ("Pilot in two ministries", 10, "in_progress", 70, 10, ["Procurement framework"], "Pilot evaluation"),
            ("National rollout plan", 160, "planned", 0, 160, ["Pilot in two ministries"], "Rollout plan"),
        ],
    ),
    (
        "Shared sovereign compute",
        "The jointly funded GPU cluster, with confidential computing for restricted data.",
        4,
        "critical",
        ["compute-sovereignty"],
        ["NRC", "Helios"],
        "paula.pm",
        -300,
        [],
        [
            ("Cluster phase 1 in service", -90, "done", 100, -41, [], "Acceptance report"),
            ("TEE attestation for restricted data", 30, "in_progress", 40, 30, ["Cluster phase 1 in service"], ""),
            ("Cluster phase 2", 300, "planned", 0, 300, ["Cluster phase 1 in service"], "Tender\nAcceptance"),
        ],
    ),
    (
        "Evaluation commons",
        "Shared benchmarks and red-teaming for every model the partnership funds.",
        3,
        "medium",
        ["trustworthy-ai"],
        ["NRC", "Aurora"],
        "sam.staff",
        -200,
        ["Open evaluation benchmarks"],
        [
            ("Benchmark suite v1", -60, "done", 100, -62, [], "Benchmark suite"),
            ("Red-team exercise", 50, "in_progress", 30, 50, ["Benchmark suite v1"], "Findings"),
        ],
    ),
]

# Re-baselining after the GPU cluster arrived late: the body moved these committed dates.
REBASELINED = {
    "Pretraining run (7B)": 80,
    "Safety and bias evaluation": 165,
    "Open-weights release": 250,
    "Federated diagnostic model": 215,
}

# Reports: (initiative, periods back from the current quarter, reported RAG, summary, risks)
REPORTS = [
    ("Sovereign foundation model", 2, "green", "Corpus assembled and licensed; pipeline on track.", ""),
    ("Sovereign foundation model", 1, "green", "Pretraining started after the cluster came online.", "GPU supply"),
    ("Federated health data", 2, "green", "Consent framework signed by all three hospitals.", ""),
    ("Federated health data", 1, "green", "Pilot nodes installed.", "The audit depends on a regulator opinion."),
    ("AI assistants for public services", 1, "amber", "Pilots live in two ministries.", "Union consultation"),
    ("Shared sovereign compute", 1, "amber", "Phase 1 accepted seven weeks late.", "Attestation tooling"),
    ("Evaluation commons", 1, "green", "Benchmark suite published.", ""),
]


def _day(offset: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=offset)


def _decide_by_ballot(context, roadmap, title: str):
    """Put the roadmap to a real ballot that every voting member supports, and close it."""
    people = context["people"]
    chair = people["ana.public"]
    ballot = governance.create_ballot(
        chair, committee=context["committee"], title=title, subject_type="roadmap", subject_id=roadmap.pk
    )
    ballot = governance.open_ballot(chair, ballot)
    for username in VOTERS:
        governance.cast_vote(people[username], ballot, "yes")
    return governance.close_ballot(chair, ballot)


def _linked_charters(context) -> dict[str, object]:
    """The demo's charters by title: an initiative links the charters that do its work (the
    foundation model initiative its language model charter), never whichever charter happens
    to be in some state."""
    return {c.title: c for c in Charter.objects.filter(committee=context["committee"])}


@transaction.atomic
def seed_demo(context: dict) -> None:
    people, orgs = context["people"], context["organizations"]
    pm = people["paula.pm"]
    themes = {slug: initiatives.create_theme(pm, name=name, slug=slug) for name, slug in THEMES}
    charters = _linked_charters(context)

    initiative_by_title, milestone_by_step, plan = {}, {}, {}
    for title, summary, impact, priority, theme_slugs, sponsors, owner, start, charter_titles, steps in INITIATIVES:
        initiative = initiatives.create_initiative(
            pm,
            title=title,
            summary=summary,
            national_impact_score=impact,
            priority=priority,
            themes=[themes[slug] for slug in theme_slugs],
            sponsors=[orgs[short] for short in sponsors],
            charters=[charters[name] for name in charter_titles if name in charters],
            owner=people[owner],
            starts_on=_day(start),
        )
        initiative_by_title[title] = initiative
        for step, planned, *_ in steps:
            plan[step] = planned
            milestone_by_step[step] = milestones.create_milestone(
                pm, initiative=initiative, title=step, baseline_date=_day(planned), forecast_date=_day(planned)
            )
    for *_, steps in INITIATIVES:
        for step, _, _, _, _, depends_on, deliverables in steps:
            milestones.update_milestone(
                pm,
                milestone_by_step[step],
                deliverables=deliverables,
                depends_on=[milestone_by_step[d] for d in depends_on],
            )

    v1 = roadmaps.create_roadmap(
        pm,
        committee=context["committee"],
        title="Joint R&D roadmap 2026–2027",
        summary="The first joint roadmap of the partnership: a sovereign model, federated health data, "
        "public-service assistants, shared compute and an evaluation commons.",
        starts_on=_day(-300),
        ends_on=_day(430),
        initiatives=list(initiative_by_title.values()),
    )
    _decide_by_ballot(context, v1, "Approve the joint R&D roadmap 2026–2027")

    # Time passes: work is done, the cluster arrives late, forecasts move.
    for *_, steps in INITIATIVES:
        for step, _, status, percent, now, _, _ in steps:
            fields = {"status": status, "percent_complete": percent}
            if status == MilestoneStatus.DONE:
                fields["actual_date"] = _day(now)
            else:
                fields["forecast_date"] = _day(now)
            if status == MilestoneStatus.BLOCKED:
                fields["status_note"] = "Waiting for the data protection authority's opinion."
            elif status == MilestoneStatus.AT_RISK:
                fields["status_note"] = "One hospital's network team is two months behind."
            milestones.update_milestone(pm, milestone_by_step[step], **fields)

    v1.refresh_from_db()
    baselines.propose_rebaseline(
        pm,
        v1,
        name="After the GPU delivery delay",
        reason="Cluster phase 1 went into service seven weeks late; pretraining and everything after it moves.",
        # Only these dates move; every other milestone keeps the date the body committed to.
        dates={
            **{m.pk: m.baseline_date for m in v1.milestones()},
            **{milestone_by_step[step].pk: _day(day) for step, day in REBASELINED.items()},
        },
    )
    _decide_by_ballot(context, v1, "Re-baseline the roadmap after the GPU delivery delay")

    # Since the re-baselining, the safety evaluation slipped again.
    milestones.update_milestone(
        pm, milestone_by_step["Safety and bias evaluation"], forecast_date=_day(190), status=MilestoneStatus.AT_RISK
    )

    current = planning.period_containing(timezone.localdate(), "quarterly")
    for title, back, rag, summary, risks in REPORTS:
        period = current
        for _ in range(back):
            period = planning.previous_period(period)
        initiative = initiative_by_title[title]
        if period.end < initiative.starts_on:
            continue
        reports.submit_report(
            initiative.owner,
            initiative=initiative,
            period_start=period.start,
            rag=rag,
            summary=summary,
            risks=risks,
            next_steps="See the milestones on the roadmap.",
        )

    # Program managers are drafting the next version, with one more initiative.
    v2 = roadmaps.draft_next_version(pm, v1, title="Joint R&D roadmap 2026–2028", ends_on=_day(800))
    climate = initiatives.create_initiative(
        pm,
        title="Climate and agriculture models",
        summary="Downscaled climate projections and crop-yield models for the ministries.",
        national_impact_score=4,
        priority="medium",
        themes=[themes["trustworthy-ai"]],
        sponsors=[orgs["PHDA"], orgs["Aurora"]],
        owner=people["tara.staff"],
        starts_on=_day(120),
        roadmap=v2,
        charters=[c for name, c in charters.items() if name == "Crop monitoring from orbit"],
    )
    milestones.create_milestone(pm, initiative=climate, title="Data partnership agreed", forecast_date=_day(200))
    assert v2.status == RoadmapStatus.DRAFT
    context["roadmap"] = v1
    context["roadmap_draft"] = v2
