"""The pages people open most, at realistic volume: server time and SQL queries per request.

Pages, each through Django's test Client, signed in as the person who opens it:
  home page        Carla, a committee member with ballots waiting for her vote (and the same
                   page as Paula, the program manager, whose panel lists slipped milestones)
  ballot list      Carla
  ballot page      Carla, on an open ballot she may vote on (live tally)
  charter list     Carla
  charter page     Carla, on an active charter
  meetings         Carla
  compute home     Sam, staff of the charter's lead organization
  account page     Sam
  roadmap timeline Paula, the program manager
  dashboards       Carla: utilization (55 GPU nodes), usage, security

Each page is measured twice in the same run: first on a small body (tens of charters,
ballots and milestones, 10 ledger transactions: the baseline), then after the volume is
added (thousands of charters, of closed ballots with their rolls, recusals and votes, and of
milestones; 10,000 ledger transactions; millions of metric samples). The query count must be
the same at both volumes (a count that grows is an N+1); the time ratio shows how the page
scales.

The volume part renders every request (SIGNED_IN_PAGE_CACHE_SECONDS=0), so its query counts
and times are those of rendering. The load part measures each page alone twice, rendered and
then served again by the page cache (governance/page_cache.py: kept while the database has
not been written since), and the load with the cache on, as `make run` serves it on
PostgreSQL with Redis; it prints the share of pages served again.

The volume is written with bulk_create where the services would take too long, but it is the
data the services would have written: a constituted committee of 20 voting members (ten per
sector), charters with their first version, ballots whose frozen results are the tally of
their roll, recusals (the members of a party organization) and votes, deadlocks followed by a
second ballot, a chained milestone plan with quarterly progress reports, a balanced ledger.
What is left out: audit events and technical reviews of the bulk rows (no page measured here
reads them).

Volume (environment): PAGES_BENCH_CHARTERS (default 3,000; about 9 ballots per 10 charters),
PAGES_BENCH_OPEN (20 more open ballots), PAGES_BENCH_MILESTONES (3,000),
PAGES_BENCH_TRANSACTIONS (10,000), PAGES_BENCH_SAMPLE_RESOURCES (50) x PAGES_BENCH_SAMPLE_DAYS
(30) of 1-minute samples (2.16 million), PAGES_BENCH_REPEAT (25 requests per page and volume).
"""

from __future__ import annotations

import datetime
import os
import time
from decimal import Decimal
from types import SimpleNamespace

from bench.common import median, p99, row, timings

D = Decimal
TOPICS = [
    "federated health records",
    "sovereign language model",
    "flood forecasting",
    "grid load prediction",
    "tax fraud triage",
    "crop yield estimation",
    "public transport demand",
    "court records search",
    "wildfire detection",
    "benefits eligibility",
]


def _env(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _say(message: str) -> None:
    print(f"  pages: {message}", flush=True)


# --- The body: a constituted committee of twenty -------------------------------------------


def _body() -> SimpleNamespace:
    """The people of tests/base.py, four more organizations per sector and eight more voting
    members per sector: ten voting seats a side, one co-chair each."""
    from django.test import override_settings

    from governance import services
    from governance.choices import Role, Sector
    from governance.models import Membership
    from tests.base import PASSWORD, make_body

    # Seating the body hashes two dozen passwords; the slow hasher measures nothing here.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        body = make_body()
        o = body.orgs
        public = [o.ministry, o.council]
        private = [o.northwind, o.helios]
        for n in range(4):
            public.append(services.create_organization(body.admin, name=f"Public Lab {n}", sector=Sector.PUBLIC))
            private.append(services.create_organization(body.admin, name=f"Private Lab {n}", sector=Sector.PRIVATE))
        for n in range(8):
            for side, orgs in (("pub", public), ("pri", private)):
                organization = orgs[(n + 2) % len(orgs)]
                user = services.create_user(
                    body.admin, username=f"{side}{n}", password=PASSWORD, organization=organization
                )
                services.add_membership(
                    body.admin,
                    user=user,
                    committee=body.committee,
                    organization=organization,
                    role=Role.MEMBER,
                    term_start=body.term_start,
                )
    body.committee.refresh_from_db()
    body.organizations = public + private
    body.voters = list(
        Membership.objects.active()
        .filter(committee=body.committee, voting=True)
        .select_related("user", "organization")
        .order_by("organization__sector", "user_id")
    )
    assert len(body.voters) == 20, len(body.voters)
    return body


# --- Charters and their ballots -----------------------------------------------------------

# What becomes of a charter, by its number modulo 20: most pass, some are rejected, one is
# deadlocked and then passed on a second ballot; a few are still drafts or waiting.
PLAN = ["draft", "submitted", "review", "rejected", "rejected", "rejected", "deadlock_then_passed"] + ["passed"] * 13
PASSED_STATUSES = ["approved", "active", "active", "completed"]


def _parties(body, n: int, *, without=None) -> tuple:
    """Lead and participating organizations of the n-th charter (none of them `without`)."""
    orgs = [o for o in body.organizations if o != without]
    lead = orgs[n % len(orgs)]
    participants = [orgs[(n + 3) % len(orgs)]] + ([orgs[(n + 7) % len(orgs)]] if n % 3 == 0 else [])
    return lead, [p for p in participants if p != lead]


def _status_of(plan: str, n: int) -> str:
    if plan in ("passed", "deadlock_then_passed"):
        return PASSED_STATUSES[n % len(PASSED_STATUSES)]
    return {
        "draft": "draft",
        "submitted": "submitted",
        "review": "under_review",
        "rejected": "rejected",
        "deadlock": "under_review",
        "open": "under_review",
    }[plan]


def _add_charters(body, plans: list[str], offset: int) -> list:
    """Charters with their parties and first version, one per plan, in bulk."""
    from charters.models import Charter, CharterVersion
    from charters.versions import snapshot

    Participation = Charter.participating_organizations.through
    specs = []
    for i, plan in enumerate(plans):
        n = offset + i
        lead, participants = _parties(body, n, without=body.orgs.council if plan == "open" else None)
        status = _status_of(plan, n)
        author = body.staff if lead.sector == "public" else body.private_staff
        charter = Charter(
            committee=body.committee,
            title=f"Charter {n:05d}: {TOPICS[n % len(TOPICS)]}",
            summary=f"A joint project on {TOPICS[n % len(TOPICS)]}, number {n}.",
            objectives="Deliver a pilot, then a service.",
            national_impact="Better public services.",
            lead_organization=lead,
            ip_framework=["joint_pool", "government_owned"][n % 2],
            data_classification=["internal", "public"][n % 2],
            allowed_jurisdictions=["EU"],
            requested_credits=D(1000 + 250 * (n % 40)),
            status=status,
            version=1 if status in PASSED_STATUSES else 0,
            created_by=author,
        )
        specs.append((charter, plan, participants))
    charters = Charter.objects.bulk_create([c for c, _, _ in specs])
    Participation.objects.bulk_create(
        [
            Participation(charter_id=c.pk, organization_id=o.pk)
            for c, (_, _, participants) in zip(charters, specs, strict=True)
            for o in participants
        ]
    )
    version_status = {"approved": "approved", "active": "approved", "completed": "approved", "rejected": "rejected"}
    CharterVersion.objects.bulk_create(
        [
            CharterVersion(
                charter=c,
                number=1,
                status=version_status.get(c.status, "proposed"),
                content=snapshot(
                    c, {"participating_organizations": participants, "data_use_agreements": [], "resources": []}
                ),
                proposed_by=c.created_by,
            )
            for c, (_, _, participants) in zip(charters, specs, strict=True)
            if c.status != "draft"
        ]
    )
    for charter, (_, plan, participants) in zip(charters, specs, strict=True):
        charter.plan = plan
        charter.party_ids = {charter.lead_organization_id, *(o.pk for o in participants)}
    return charters


def _choice(pattern: str, k: int, sector: str) -> str | None:
    """The k-th voter's vote under a pattern (None: did not vote)."""
    if pattern == "yes":
        return None if k % 13 == 12 else "abstain" if k % 11 == 10 else "no" if k % 7 == 6 else "yes"
    if pattern == "no":
        return "yes" if k % 5 == 4 else "no"
    if pattern == "split":  # the sectors disagree: a deadlock
        return "yes" if sector == "public" else "no"
    if pattern == "partial":  # an open ballot, half-way through
        return "yes" if k % 2 else None
    raise ValueError(pattern)


class _BallotSpec:
    """One ballot to write: the row, and its roll, recusals and votes (written once it has a pk)."""

    def __init__(self, body, charter, pattern: str, *, status: str, opened_at, closes_at, skip=None, previous=None):
        from governance.choices import Sector
        from governance.models import Ballot
        from governance.tally import SectorCount, compute_tally

        committee = body.committee
        self.roll = body.voters
        self.recused = [m for m in self.roll if m.organization_id in charter.party_ids]
        self.votes = {}
        k = 0
        for m in self.roll:
            if m in self.recused or m.user_id == skip:
                continue
            choice = _choice(pattern, k, m.organization.sector)
            k += 1
            if choice:
                self.votes[m] = choice
        counts = {}
        for sector in Sector.values:
            seats = [m for m in self.roll if m.organization.sector == sector]
            recused = [m for m in seats if m in self.recused]
            cast = [self.votes[m] for m in seats if m in self.votes]
            counts[sector] = SectorCount(
                eligible=len(seats) - len(recused),
                recused=len(recused),
                yes=cast.count("yes"),
                no=cast.count("no"),
                abstain=cast.count("abstain"),
            )
        method = committee.default_method("charter")
        closed = status == "closed"
        tally = compute_tally(method, committee.quorum, counts) if closed else None
        self.ballot = Ballot(
            committee=committee,
            title=f"Approve “{charter.title}”",
            subject_type="charter",
            subject_id=charter.pk,
            subject_title=f"Charter “{charter.title}”",
            method=method,
            quorum=committee.quorum,
            status=status,
            outcome=tally["outcome"] if tally else "",
            opened_at=opened_at,
            closes_at=closes_at,
            closed_at=closes_at if closed else None,
            previous_ballot=previous,
            created_by=body.secretary,
            opened_by=body.public_chair,
            result=tally,
            opened_notice_at=opened_at,
            reminder_sent_at=closes_at - datetime.timedelta(days=1) if closed else None,
            result_notice_at=closes_at if closed else None,
        )

    def children(self) -> tuple[list, list, list]:
        from governance.models import Eligibility, Recusal, Vote

        ballot = self.ballot
        return (
            [
                Eligibility(
                    ballot=ballot,
                    user_id=m.user_id,
                    membership=m,
                    organization_id=m.organization_id,
                    sector=m.organization.sector,
                    role=m.role,
                )
                for m in self.roll
            ],
            [
                Recusal(
                    ballot=ballot,
                    user_id=m.user_id,
                    organization_id=m.organization_id,
                    sector=m.organization.sector,
                    reason=f"{m.organization} is a party to this charter.",
                    automatic=True,
                )
                for m in self.recused
            ],
            [
                Vote(ballot=ballot, voter_id=m.user_id, sector=m.organization.sector, choice=choice)
                for m, choice in self.votes.items()
            ],
        )


def _write_ballots(specs: list[_BallotSpec]) -> list:
    from governance.models import Ballot, Eligibility, Recusal, Vote

    ballots = Ballot.objects.bulk_create([s.ballot for s in specs])
    roll, recusals, votes = [], [], []
    for spec in specs:
        a, b, c = spec.children()
        roll += a
        recusals += b
        votes += c
    Eligibility.objects.bulk_create(roll, batch_size=5000)
    Recusal.objects.bulk_create(recusals, batch_size=5000)
    Vote.objects.bulk_create(votes, batch_size=5000)
    return ballots


def _add_ballots(body, charters: list, persona) -> tuple[list, list]:
    """The ballots of these charters (by their plan): closed ones with the tally their votes
    make, and open ones waiting for the persona's vote. Returns (closed, open)."""
    from django.utils import timezone

    now = timezone.now()
    first, seconds, opened = [], [], []
    expected = {"yes": "passed", "no": "rejected", "split": "deadlocked"}
    for n, charter in enumerate(charters):
        # Spread over the last five years, a week each.
        opened_at = now - datetime.timedelta(days=5 * 365) + datetime.timedelta(hours=(n * 37) % (5 * 365 * 24))
        week = datetime.timedelta(days=7)
        plan = charter.plan
        if plan == "open":
            opened.append(
                _BallotSpec(
                    body,
                    charter,
                    "partial",
                    status="open",
                    opened_at=now - datetime.timedelta(days=1),
                    closes_at=now + datetime.timedelta(days=6),
                    skip=persona.pk,
                )
            )
            continue
        pattern = {"passed": "yes", "rejected": "no", "deadlock": "split", "deadlock_then_passed": "split"}.get(plan)
        if pattern is None:
            continue
        spec = _BallotSpec(body, charter, pattern, status="closed", opened_at=opened_at, closes_at=opened_at + week)
        assert spec.ballot.outcome == expected[pattern], (plan, spec.ballot.result)
        first.append(spec)
        if plan == "deadlock_then_passed":
            seconds.append((charter, spec, opened_at + 2 * week))
    closed = _write_ballots(first)
    later = [
        _BallotSpec(
            body,
            charter,
            "yes",
            status="closed",
            opened_at=at,
            closes_at=at + datetime.timedelta(days=7),
            previous=s.ballot,
        )
        for charter, s, at in seconds
    ]
    closed += _write_ballots(later)
    return closed, _write_ballots(opened)


# --- The roadmap ---------------------------------------------------------------------------


def _add_initiatives(body, roadmap, count: int, offset: int) -> list:
    from django.utils import timezone

    from roadmap.services import initiatives

    start = timezone.localdate() - datetime.timedelta(days=540)
    return [
        initiatives.create_initiative(
            body.program_manager,
            roadmap=roadmap,
            title=f"Initiative {offset + n:03d}: {TOPICS[(offset + n) % len(TOPICS)]}",
            national_impact_score=1 + (offset + n) % 5,
            starts_on=start,
            owner=body.staff,
            sponsors=[body.organizations[(offset + n) % len(body.organizations)]],
        )
        for n in range(count)
    ]


def _add_milestones(initiatives: list, per_initiative: int) -> int:
    """A chain of milestones per initiative, two weeks apart from 18 months ago: the past ones
    done, the rest planned, in progress or at risk, with some slippage."""
    from django.utils import timezone

    from roadmap.models import Milestone, MilestoneDependency

    today = timezone.localdate()
    made = []
    for i, initiative in enumerate(initiatives):
        for j in range(per_initiative):
            baseline = initiative.starts_on + datetime.timedelta(days=14 * (j + 1) + i % 7)
            forecast = baseline + datetime.timedelta(days=(j * 3 + i) % 25)
            done = forecast < today - datetime.timedelta(days=14)
            made.append(
                Milestone(
                    initiative=initiative,
                    title=f"{initiative.title[:150]}: step {j + 1}",
                    deliverables="Report\nCode",
                    baseline_date=baseline,
                    forecast_date=forecast,
                    actual_date=forecast if done else None,
                    status="done" if done else ["planned", "in_progress", "planned", "at_risk"][j % 4],
                    percent_complete=100 if done else (j * 7) % 90,
                )
            )
    made = Milestone.objects.bulk_create(made, batch_size=2000)
    links = [
        MilestoneDependency(milestone=m, depends_on=before)
        for before, m in zip(made, made[1:], strict=False)
        if before.initiative_id == m.initiative_id
    ]
    MilestoneDependency.objects.bulk_create(links, batch_size=5000)
    return len(made)


def _add_reports(body, initiatives: list) -> None:
    """Each initiative's quarterly progress reports since it started, but for every tenth one,
    which owes last quarter's (so the program manager's panel lists a few overdue)."""
    from django.utils import timezone

    from roadmap import planning
    from roadmap.models import ProgressReport

    today = timezone.localdate()
    reports = []
    for n, initiative in enumerate(initiatives):
        period = planning.previous_period(planning.period_containing(today, initiative.report_cadence))
        if n % 10 == 9:
            period = planning.previous_period(period)
        while period.end >= initiative.starts_on:
            rag = ["green", "green", "amber", "red"][(n + period.start.month) % 4]
            reports.append(
                ProgressReport(
                    initiative=initiative,
                    period_start=period.start,
                    period_end=period.end,
                    rag=rag,
                    summary="On track for the next milestone.",
                    evidence_rag=rag,
                    author=initiative.owner,
                )
            )
            period = planning.previous_period(period)
    ProgressReport.objects.bulk_create(reports)


# --- Measuring -----------------------------------------------------------------------------


def push_sources(body, nodes) -> None:
    from compute.models import MetricSource
    from compute.services.metrics import sources

    for node in nodes:
        sources.create_source(body.admin, name=f"Agent of {node.name}", kind="push", resource=node)
    MetricSource.objects.filter(resource__in=nodes).update(last_success_at=timezone_now())


def timezone_now():
    from django.utils import timezone

    return timezone.now()


def _measure(client, url: str, repeat: int) -> tuple[int, list[float], int]:
    """(queries of one request, seconds of `repeat` requests, bytes of the page)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries), timings(lambda: client.get(url), repeat=repeat, warmup=1), len(response.content)


def _measure_all(pages: list[tuple[str, object, str]], repeat: int) -> dict:
    results = {}
    for name, client, url in pages:
        results[name] = _measure(client, url, repeat)
        _say(f"{name}: {results[name][0]} queries, {median(results[name][1]) * 1000:.0f} ms")
    return results


def run() -> list[dict]:
    from django.db import connection
    from django.test import override_settings

    parts = os.environ.get("PAGES_BENCH_PARTS", "volume,load").split(",")
    rows = []
    # Alerts fire while the ledger is written; their emails go to memory, not the console.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        if "volume" in parts:
            # How rendering scales with volume: every request renders (the page cache would
            # answer the repeats with its own four queries and hide an N+1).
            with override_settings(SIGNED_IN_PAGE_CACHE_SECONDS=0):
                rows += _run()
        if "load" in parts:
            # The demo body in a database of its own: the volume's people share its names.
            outer = connection.settings_dict["NAME"]
            if "volume" in parts:
                connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
            try:
                rows += _load_run()
            finally:
                if "volume" in parts:
                    connection.creation.destroy_test_db(outer, verbosity=0)
    return rows


def _run() -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from bench.ledger import bulk_usage, funded_account
    from bench.metrics import METRIC, load_history
    from charters.models import Charter
    from compute.choices import ResourceKind
    from compute.models import Resource
    from compute.services.metrics import store
    from governance.models import Ballot, Vote
    from roadmap.models import Milestone
    from roadmap.services import roadmaps
    from tests.compute.credits import make_world

    n_charters = _env("PAGES_BENCH_CHARTERS", 3000)
    n_open = _env("PAGES_BENCH_OPEN", 20)
    n_milestones = _env("PAGES_BENCH_MILESTONES", 3000)
    n_transactions = _env("PAGES_BENCH_TRANSACTIONS", 10_000)
    n_resources = _env("PAGES_BENCH_SAMPLE_RESOURCES", 50)
    sample_days = _env("PAGES_BENCH_SAMPLE_DAYS", 30)
    repeat = _env("PAGES_BENCH_REPEAT", 25)

    # --- The small body: the baseline ---
    started = time.perf_counter()
    body = _body()
    carla = body.public_member
    world = make_world(body)
    small_plans = [PLAN[n % len(PLAN)] for n in range(20)] + ["deadlock"] + ["open"] * 3
    charters = _add_charters(body, small_plans, 0)
    _, open_ballots = _add_ballots(body, charters, carla)
    roadmap = roadmaps.create_roadmap(
        body.program_manager,
        committee=body.committee,
        title="Joint R&D roadmap",
        starts_on=timezone.localdate() - datetime.timedelta(days=540),
        ends_on=timezone.localdate() + datetime.timedelta(days=3 * 365),
    )
    initiatives = _add_initiatives(body, roadmap, 3, 0)
    _add_milestones(initiatives, 10)
    _add_reports(body, initiatives)
    # The account: the council's charter, allocated 9,000 credits by both co-chairs.
    account = funded_account(body, world)
    usage_start = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(days=500)
    bulk_usage(account, world["cpu"], 9, usage_start)  # with the allocation: 10 transactions
    metric_id = store.metric_ids({METRIC})[METRIC]
    end = timezone.now().replace(minute=0, second=0, microsecond=0)
    nodes = [
        Resource.objects.create(name=f"Node {n:03d}", kind=ResourceKind.GPU_CLUSTER, capacity=8, jurisdiction="EU")
        for n in range(n_resources + 5)
    ]
    load_history(nodes[:5], metric_id, end - datetime.timedelta(days=1), 24 * 60)
    # Each node's agent pushes its samples: the dashboards draw a line only where a source collects.
    push_sources(body, nodes[:5])

    def counts() -> str:
        return (
            f"{Charter.objects.count():,} charters, {Ballot.objects.count():,} ballots "
            f"({Ballot.objects.filter(status='open').count()} open), {Vote.objects.count():,} votes, "
            f"{Milestone.objects.count():,} milestones, {account.entries.count():,} account transactions"
        )

    small_counts = counts()
    _say(f"small body in {time.perf_counter() - started:.0f} s: {small_counts}")

    def client_for(user) -> Client:
        client = Client(HTTP_HOST="localhost")  # a host ALLOWED_HOSTS accepts outside the test runner
        client.force_login(user)
        return client

    ballot = open_ballots[0]
    charter = Charter.objects.filter(status="active").order_by("pk").first()
    member = client_for(carla)
    pages = [
        ("home page", member, "/"),
        ("home page, program manager", client_for(body.program_manager), "/"),
        ("ballot list", member, "/ballots/"),
        ("ballot page", member, f"/ballots/{ballot.pk}/"),
        ("charter list", member, "/charters/"),
        ("charter page", member, f"/charters/{charter.pk}/"),
        ("meetings", member, "/meetings/"),
        ("compute home", client_for(body.staff), "/compute/"),
        ("account page", client_for(body.staff), f"/compute/accounts/{account.pk}/"),
        ("roadmap timeline", client_for(body.program_manager), "/roadmap/"),
        ("utilization dashboard", member, "/compute/dashboards/"),
        ("usage dashboard", member, "/compute/dashboards/usage/"),
        ("security dashboard", member, "/compute/dashboards/security/"),
    ]
    small = _measure_all(pages, repeat)

    # --- The volume ---
    started = time.perf_counter()
    plans = [PLAN[n % len(PLAN)] for n in range(n_charters)] + ["open"] * n_open
    for offset in range(0, len(plans), 1000):
        more = _add_charters(body, plans[offset : offset + 1000], 1000 + offset)
        _add_ballots(body, more, carla)
        _say(f"{offset + len(more):,} of {len(plans):,} charters with their ballots")
    per_initiative = 20
    count = max(1, (n_milestones - 30) // per_initiative)
    initiatives = _add_initiatives(body, roadmap, count, 3)
    _add_milestones(initiatives, per_initiative)
    _add_reports(body, initiatives)
    _say(f"{Milestone.objects.count():,} milestones in {count + 3} initiatives")
    bulk_usage(account, world["cpu"], n_transactions - 10, usage_start + datetime.timedelta(hours=9))
    _say(f"{n_transactions:,} transactions on the account")
    minutes = sample_days * 24 * 60
    total = n_resources * minutes

    def progress(done: int) -> None:
        if done % 10 == 0 or done == n_resources:
            _say(f"{done * minutes:,} of {total:,} metric samples")

    load_history(nodes[5:], metric_id, end - datetime.timedelta(days=sample_days), minutes, progress)
    push_sources(body, nodes[5:])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would have by now
    large_counts = counts()
    _say(f"volume added in {time.perf_counter() - started:.0f} s: {large_counts}")
    large = _measure_all(pages, repeat)

    rows = []
    for name, _, _ in pages:
        few_queries, few, few_bytes = small[name]
        many_queries, many, many_bytes = large[name]
        rows.append(
            row(
                "pages",
                f"{name}: queries",
                many_queries,
                None,
                many_queries / few_queries,
                "queries",
                f"{few_queries} on the small body" + ("" if many_queries == few_queries else ": GROWS WITH VOLUME"),
            )
        )
        rows.append(
            row(
                "pages",
                f"{name}: server time",
                median(many) * 1000,
                p99(many) * 1000,
                median(many) / median(few),
                "ms",
                f"ratio vs small body ({median(few) * 1000:.0f} ms); {many_bytes / 1024:,.0f} KiB "
                f"(small {few_bytes / 1024:,.0f} KiB)",
            )
        )
    rows.append(row("pages", "small body", None, None, None, "", small_counts))
    rows.append(row("pages", "volume", None, None, None, "", f"{large_counts}; {total:,} metric samples"))
    return rows


# --- 32 people at once: the demo body through gunicorn ------------------------------------------

LOAD_PEOPLE = [
    "ana.public",
    "ben.private",
    "carla.public",
    "dev.public",
    "erik.private",
    "fatima.private",
    "grace.secretary",
    "oscar.observer",
]


def _load_pages() -> list[tuple[str, str]]:
    """The eleven pages people open most, on the demo's data."""
    from charters.models import Charter
    from governance.models import Ballot

    ballot = Ballot.objects.filter(status="open", subject_type="charter").order_by("pk").first()
    charter = Charter.objects.filter(status="active").order_by("pk").first()
    return [
        ("home", "/"),
        ("ballot list", "/ballots/"),
        ("charter ballot", f"/ballots/{ballot.pk}/"),
        ("charter list", "/charters/"),
        ("charter page", f"/charters/{charter.pk}/"),
        ("meetings", "/meetings/"),
        ("compute home", "/compute/"),
        ("utilization dashboard", "/compute/dashboards/"),
        ("usage dashboard", "/compute/dashboards/usage/"),
        ("security dashboard", "/compute/dashboards/security/"),
        ("roadmap timeline", "/roadmap/"),
    ]


def _sessions(usernames: list[str], count: int) -> list[str]:
    """Session keys of `count` signed-in browsers, the people taken in turn."""
    from django.test import Client

    from governance.models import User

    people = {u.username: u for u in User.objects.filter(username__in=usernames)}
    keys = []
    for n in range(count):
        client = Client(HTTP_HOST="localhost")
        client.force_login(people[usernames[n % len(usernames)]])
        keys.append(client.cookies["sessionid"].value)
    return keys


def _browse(port: int, sessions: list[str], pages: list[tuple[str, str]], rounds: int):
    """Each session on its own thread and keep-alive connection opens every page `rounds`
    times, in its own order, with no pause: (latencies ms by page, wall s, errors)."""
    import http.client
    import random
    import threading

    results: list[tuple[str, float]] = []
    errors: list[str] = []
    hits: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(sessions) + 1)

    def person(n: int) -> None:
        order = [page for _ in range(rounds) for page in pages]
        random.Random(n).shuffle(order)  # noqa: S311 - an order, not a secret
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Cookie": f"sessionid={sessions[n]}", "Host": "localhost", "Accept-Encoding": "gzip"}
        mine = []
        barrier.wait()
        for name, url in order:
            started = time.perf_counter()
            try:
                connection.request("GET", url, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.getheader("X-Page-Cache") == "hit":
                    with lock:
                        hits.append(name)
            except OSError as error:
                status = f"{type(error).__name__}"
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine.append((name, (time.perf_counter() - started) * 1000))
            if status != 200:
                with lock:
                    errors.append(f"{url}: {status}")
        with lock:
            results.extend(mine)
        connection.close()

    threads = [threading.Thread(target=person, args=(n,)) for n in range(len(sessions))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started, errors, len(hits)


class _voting:
    """A member changing her vote on the open charter ballot every `every` seconds, on a
    thread of its own, while the context lasts; the context's value lists the votes cast."""

    def __init__(self, every: float):
        import threading

        self.every, self.votes, self.stop = every, [], threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        from django.core.exceptions import PermissionDenied
        from django.db import connection

        from governance import services
        from governance.models import Ballot, User

        ballot = Ballot.objects.filter(status="open", subject_type="charter").order_by("pk").first()
        voters = list(User.objects.filter(username__in=LOAD_PEOPLE).order_by("username"))
        while not self.stop.wait(self.every):
            choice = "no" if len(self.votes) % 2 else "yes"
            for voter in voters:  # the first who may vote (not recused, seated, voting)
                try:
                    services.cast_vote(voter, ballot, choice)
                except PermissionDenied:
                    continue
                voters = [voter]
                self.votes.append(choice)
                break
        connection.close()

    def __enter__(self) -> list:
        self.thread.start()
        return self.votes

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _first_chart(port: int, session: str, url: str, visits: int) -> tuple[float, list[float], bool]:
    """Milliseconds from navigation to the first chart's svg (plotly drew it): the first visit
    (cold cache) and `visits` later ones (warm cache), and whether plotly.js came from the cache."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
            ],
        )
        context = browser.new_context()
        context.add_cookies([{"name": "sessionid", "value": session, "domain": "127.0.0.1", "path": "/"}])
        page = context.new_page()
        chart = "[data-chart] .main-svg"

        def visit() -> float:
            started = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}{url}", wait_until="commit")
            page.wait_for_selector(chart, state="attached", timeout=30_000)
            return (time.perf_counter() - started) * 1000

        cold = visit()
        warm = [visit() for _ in range(visits)]
        cached = page.evaluate(
            "performance.getEntriesByType('resource').filter(e => e.name.includes('plotly'))"
            ".every(e => e.transferSize === 0)"
        )
        browser.close()
    return cold, warm, cached


def _load_run() -> list[dict]:
    """seed_demo, then 32 signed-in people through gunicorn (4 workers x 4 threads)."""
    from urllib.parse import urlsplit, urlunsplit

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench.common import free_port, start_gunicorn
    from governance.models import User

    people = _env("PAGES_BENCH_PEOPLE", 32)
    rounds = _env("PAGES_BENCH_ROUNDS", 6)
    workers, threads = _env("PAGES_BENCH_WORKERS", 4), _env("PAGES_BENCH_THREADS", 4)
    repeat = _env("PAGES_BENCH_REPEAT", 25)
    started = time.perf_counter()
    call_command("seed_demo", "--no-logins", stdout=open(os.devnull, "w"))  # noqa: SIM115
    if connection.vendor == "postgresql":
        # A database in service is vacuumed; freshly seeded, autovacuum would write for a
        # while, and every write renders the kept pages afresh.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    _say(f"demo body in {time.perf_counter() - started:.0f} s")
    pages = _load_pages()

    # One person alone, through Django's test Client: server time and queries of each page.
    carla = User.objects.get(username="carla.public")
    client = Client(HTTP_HOST="localhost")
    client.force_login(carla)
    # Rendered each time (the page cache off), then served again while nothing is written.
    from django.test import override_settings

    with override_settings(SIGNED_IN_PAGE_CACHE_SECONDS=0):
        rendered = {name: _measure(client, url, repeat) for name, url in pages}
    alone = {name: _measure(client, url, repeat) for name, url in pages}

    # The same pages through gunicorn, as `make run` serves them: hashed, compressed static files.
    # The bench's own var/ (its secret key signs the sessions the clients present).
    from django.conf import settings

    var = str(settings.VAR_DIR)
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        parts = urlsplit(os.environ["DATABASE_URL"])
        database_url = urlunsplit(parts._replace(path=f"/{settings_dict['NAME']}"))
    else:
        database_url = f"sqlite:///{settings_dict['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TGB_VAR_DIR": var,
        "STATIC_MANIFEST": "1",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "governance.settings",
    }
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        env=env,
        check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    sessions = _sessions(LOAD_PEOPLE, people)
    port = free_port()
    server = start_gunicorn(port, workers=workers, threads=threads, env=env)
    try:
        _browse(port, sessions[: len(LOAD_PEOPLE)], pages, 1)  # every worker warm, every page checked
        load_before = os.getloadavg()
        results, wall, errors, hits = _browse(port, sessions, pages, rounds)
        load_after = os.getloadavg()
        # The same browsing while a member changes her vote every `every` seconds: each vote
        # is a write, and every kept page renders afresh after it.
        every = float(os.environ.get("PAGES_BENCH_VOTE_EVERY", "2"))
        with _voting(every) as votes:
            written = _browse(port, sessions, pages, rounds)
        cold, warm, cached = _first_chart(port, sessions[2], "/compute/dashboards/", 5)
    finally:
        server.terminate()
        server.wait(10)
    latencies = [ms for _, ms in results]
    setup = (
        f"{people} people, {len(pages)} pages x {rounds} rounds, gunicorn {workers}x{threads} gthread, "
        f"{connection.vendor}; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
        f"({os.cpu_count()} cores)"
    )
    w_results, w_wall, w_errors, w_hits = written
    w_latencies = [ms for _, ms in w_results]
    rows = [
        row(
            "pages",
            f"32 people, a vote every {every:g} s: p50 / p95",
            round(median(w_latencies), 1),
            round(_percentile(w_latencies, 0.95), 1),
            None,
            "ms",
            f"{len(w_results) / w_wall:.1f} pages/s, {w_hits / len(w_results):.0%} served again, "
            f"{len(votes)} votes written; {len(w_errors)} errors; p99 column = p95",
        ),
        row(
            "pages",
            "32 people: pages per second",
            round(len(results) / wall, 1),
            None,
            None,
            "pages/s",
            f"{len(results)} pages in {wall:.1f} s, {hits / len(results):.0%} served again; "
            f"{len(errors)} errors{': ' + errors[0] if errors else ''}; {setup}",
        ),
        row(
            "pages",
            "32 people: latency p50 / p99",
            round(median(latencies), 1),
            round(_percentile(latencies, 0.99), 1),
            round(_percentile(latencies, 0.99) / median(latencies), 2),
            "ms",
            f"p95 {_percentile(latencies, 0.95):.1f} ms (target under 500 ms); ratio = p99/median",
        ),
    ]
    for name, url in pages:
        mine = [ms for page, ms in results if page == name]
        queries, seconds, size = alone[name]
        rendering, render_seconds, _ = rendered[name]
        rows.append(
            row(
                "pages",
                f"{name}: rendered / kept / under load",
                round(median(render_seconds) * 1000, 1),
                round(_percentile(mine, 0.95), 1),
                None,
                "ms",
                f"{url}; alone: rendered {rendering} queries, kept {median(seconds) * 1000:.1f} ms "
                f"{queries} queries, {size / 1024:,.0f} KiB; "
                f"p99 column = p95 under load (median {median(mine):.0f} ms)",
            )
        )
    rows.append(
        row(
            "pages",
            "chart page, first visit",
            round(cold, 1),
            None,
            None,
            "ms",
            "navigation to the first chart's svg, cold cache (Chromium, gunicorn, hashed gzipped static)",
        )
    )
    rows.append(
        row(
            "pages",
            "chart page, later visits",
            round(median(warm), 1),
            round(max(warm), 1),
            None,
            "ms",
            f"{len(warm)} visits, warm cache (target under 300 ms); plotly.js "
            f"{'from the cache' if cached else 'FETCHED AGAIN'}",
        )
    )
    return rows


if __name__ == "__main__":
    import sys

    from bench.__main__ import main

    sys.exit(main(["pages"]))
