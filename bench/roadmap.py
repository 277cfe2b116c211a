"""The roadmap timeline: what the page costs as the roadmap grows, and the dependency-cycle check.

Baseline: the timeline page of a roadmap with 50 milestones; the same page with 500 milestones
is compared with it (the query count stays the same; the time grows with the figure).
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from bench.common import median, p99, row, timings


def _grow(body, planned: list, count: int, offset: int) -> list:
    """Add `count` milestones spread over the initiatives, each after the one before it."""
    from roadmap.services import milestones

    today = timezone.localdate()
    made = []
    for n in range(count):
        initiative = planned[n % len(planned)]
        previous = made[-len(planned)] if len(made) >= len(planned) else None
        made.append(
            milestones.create_milestone(
                body.program_manager,
                initiative=initiative,
                title=f"Milestone {offset + n}",
                baseline_date=today + datetime.timedelta(days=offset + n),
                forecast_date=today + datetime.timedelta(days=offset + n + n % 20),
                depends_on=[previous] if previous else [],
            )
        )
    return made


def run() -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from roadmap.models import Milestone
    from roadmap.services import initiatives, milestones, roadmaps
    from tests.base import make_body

    body = make_body()
    pm = body.program_manager
    planned = [
        initiatives.create_initiative(
            pm, title=f"Initiative {i}", national_impact_score=3, starts_on=timezone.localdate(), owner=body.staff
        )
        for i in range(10)
    ]
    roadmaps.create_roadmap(
        pm,
        committee=body.committee,
        title="Benchmark roadmap",
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(days=900),
        initiatives=planned,
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(body.public_member)

    def page():
        response = client.get("/roadmap/")
        assert response.status_code == 200

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page()
        return len(captured)

    made = _grow(body, planned, 50, 0)
    small, small_queries = timings(page, repeat=15, warmup=2), queries()
    made += _grow(body, planned, 450, 50)
    large, large_queries = timings(page, repeat=15, warmup=2), queries()

    # One more dependency in a graph of ~500 edges: the cycle check reads the whole graph once.
    last = made[-1]
    edit = timings(
        lambda: milestones.update_milestone(pm, last, depends_on=list(Milestone.objects.filter(pk=made[-11].pk))),
        repeat=20,
    )
    return [
        row(
            "roadmap",
            "timeline page, 50 milestones",
            median(small) * 1000,
            p99(small) * 1000,
            1.0,
            "ms",
            f"baseline; {small_queries} queries",
        ),
        row(
            "roadmap",
            "timeline page, 500 milestones",
            median(large) * 1000,
            p99(large) * 1000,
            median(large) / median(small),
            "ms",
            f"{large_queries} queries",
        ),
        row(
            "roadmap",
            "milestone edit with cycle check, ~500 edges",
            median(edit) * 1000,
            p99(edit) * 1000,
            None,
            "ms",
            "lock + whole-graph read + audit event",
        ),
    ]
