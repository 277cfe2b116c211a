"""Benchmark `vote`: casting votes through the API under concurrent load, and what a tally costs.

    python -m bench.vote            (or `make bench B=vote` once the runner is in place)

`run()` returns rows of {"benchmark", "metric", "median", "p99", "ratio", "unit", "note"}:

- api_vote_latency / api_vote_throughput: VOTERS members (half per sector) each cast a vote
  and then change it, through POST /api/ballots/{id}/vote/ with token auth, from CLIENTS
  threads against a real gunicorn (gthread) on loopback. PostgreSQL when DATABASE_URL points
  at one (a scratch database beside it is created and dropped), else a scratch SQLite file.
  The final tally is checked against the votes sent.
- tally_queries / tally_time: the tally of a 1,000-member ballot against a 10-member one.
  The query count must be the same (ratio 1.0): the tally is two aggregate queries however
  many people vote.

Everything runs in a child process with its own scratch database, so the benchmark never
touches the developer's data and works whatever the calling process has configured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.common import free_port, median, p99, row, start_gunicorn

ROOT = Path(__file__).resolve().parent.parent
VOTERS = int(os.environ.get("BENCH_VOTE_VOTERS", "200"))
CLIENTS = int(os.environ.get("BENCH_VOTE_CLIENTS", "16"))
WORKERS = int(os.environ.get("BENCH_VOTE_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_VOTE_THREADS", "8"))
TALLY_MEMBERS = 1000
SCRATCH_SUFFIX = "_bench_vote"


# --- The parent: a scratch database, then the child ------------------------------------------


def _scratch_database() -> tuple[str, callable]:
    """A DATABASE_URL for a scratch database, and how to drop it afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        name = (parts.path.lstrip("/") or "tgb") + SCRATCH_SUFFIX
        admin_url = urlunsplit(parts._replace(path="/postgres"))

        def execute(statement: str) -> None:
            with psycopg.connect(admin_url, autocommit=True) as connection:
                connection.execute(statement)

        execute(f'DROP DATABASE IF EXISTS "{name}"')
        execute(f'CREATE DATABASE "{name}"')
        return urlunsplit(parts._replace(path=f"/{name}")), lambda: execute(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        )
    directory = tempfile.mkdtemp(prefix="tgb-bench-vote-")
    return f"sqlite:///{directory}/bench.sqlite3", lambda: None


def run() -> list[dict]:
    database_url, drop = _scratch_database()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TGB_VAR_DIR": tempfile.mkdtemp(prefix="tgb-bench-var-"),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    try:
        child = subprocess.run(
            [sys.executable, "-m", "bench.vote", "--child"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
    finally:
        drop()
    if child.returncode != 0:
        raise RuntimeError(f"bench.vote failed:\n{child.stdout[-4000:]}\n{child.stderr[-4000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


# --- The child: seed, serve, load, count -----------------------------------------------------


def _seed_committee(name: str, per_sector: int):
    """A constituted committee with `per_sector` voting members in each sector, each with an
    API token. Bulk inserts: the benchmark measures voting, not account creation."""
    import datetime

    from django.utils import timezone

    from governance import services
    from governance.choices import Role, Sector
    from governance.models import Committee, Membership, Organization, User
    from governance.services import tokens

    committee = Committee.objects.create(name=name)
    term_start = timezone.localdate() - datetime.timedelta(days=1)
    voters = []
    for sector in Sector.values:
        organization, _ = Organization.objects.get_or_create(name=f"{sector.title()} org", defaults={"sector": sector})
        users = User.objects.bulk_create(
            User(username=f"{name[:12]}-{sector}-{n}", organization=organization, password="!")
            for n in range(per_sector)
        )
        Membership.objects.bulk_create(
            Membership(
                user=user,
                committee=committee,
                organization=organization,
                role=Role.CHAIR if n == 0 else Role.MEMBER,
                voting=True,
                term_start=term_start,
            )
            for n, user in enumerate(users)
        )
        # The co-chair's groups and object permissions, as seating through the services gives them.
        services.sync_committee_roles(None, users[0])
        voters += users
    keys = [tokens.issue_token(user, verified=False)[0] for user in voters]
    return committee, voters, keys


def _open_motion(committee, title: str):
    """A motion prepared and opened by the committee's public co-chair (administrators do not
    open ballots: DESIGN.md 2.7)."""
    from governance import services
    from governance.choices import Role, Sector

    chair = committee.memberships.get(role=Role.CHAIR, organization__sector=Sector.PUBLIC).user
    ballot = services.create_ballot(chair, committee=committee, title=title, subject_type="motion")
    return services.open_ballot(chair, ballot)


def _load(port: int, path: str, tokens: list[str]) -> tuple[list[float], float, list[str]]:
    """Every voter votes yes, then changes to a final choice (no, abstain or yes again);
    returns latencies (ms), wall time (s) and the errors."""
    import http.client

    final = {token: ("no", "abstain", "yes")[n % 3] for n, token in enumerate(tokens)}
    # Each client thread takes every CLIENTS-th voter and sends that voter's cast, then change,
    # in order: the last vote sent is the one the tally must count.
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS + 1)

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        barrier.wait()
        jobs = [(token, choice) for token in tokens[offset::CLIENTS] for choice in ("yes", final[token])]
        for token, choice in jobs:
            body = json.dumps({"choice": choice})
            started = time.perf_counter()
            connection.request(
                "POST",
                path,
                body=body,
                headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            payload = response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status not in (200, 201):
                with lock:
                    errors.append(f"{response.status} {payload[:200]!r}")
        with lock:
            latencies.extend(mine)
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, errors


def _tally_cost(ballot) -> tuple[int, list[float]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        ballot.live_tally()
    timings = []
    for _ in range(30):
        started = time.perf_counter()
        ballot.live_tally()
        timings.append((time.perf_counter() - started) * 1000)
    return len(queries), timings


def _cast_directly(ballot, voters) -> None:
    """Votes for the tally benchmark, inserted in bulk (the API path is measured above)."""
    from governance.models import Eligibility, Vote

    sectors = dict(Eligibility.objects.filter(ballot=ballot).values_list("user_id", "sector"))
    Vote.objects.bulk_create(
        Vote(ballot=ballot, voter=user, sector=sectors[user.pk], choice=("yes", "no", "abstain")[n % 3])
        for n, user in enumerate(voters)
    )


def child() -> list[dict]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from governance.models import Ballot, User

    call_command("migrate", verbosity=0)
    User.objects.create_superuser("bench-admin", "bench@example.org", None)
    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]

    committee, _voters, tokens = _seed_committee("Load committee", VOTERS // 2)
    ballot = _open_motion(committee, "Load ballot")
    port = free_port()
    server = start_gunicorn(port, workers=WORKERS, threads=THREADS)
    try:
        # A warm-up round (every worker and token used once), then the baseline, then the
        # votes: the same clients, tokens and number of POSTs.
        _load(port, "/bench/insert/", tokens)
        base_latencies, base_wall, base_errors = _load(port, "/bench/insert/", tokens)
        latencies, wall, errors = _load(port, f"/api/ballots/{ballot.pk}/vote/", tokens)
    finally:
        server.terminate()
        server.wait(10)
    tally = Ballot.objects.get(pk=ballot.pk).live_tally()
    counted = sum(row["yes"] + row["no"] + row["abstain"] for row in tally["sectors"].values())
    expected_final = {"yes": 0, "no": 0, "abstain": 0}
    for n in range(len(tokens)):
        expected_final[("no", "abstain", "yes")[n % 3]] += 1
    got_final = {choice: sum(row[choice] for row in tally["sectors"].values()) for choice in expected_final}
    consistent = counted == len(tokens) and got_final == expected_final and not errors
    setup = f"{len(tokens)} voters, {CLIENTS} client threads, gunicorn {WORKERS}x{THREADS} gthread, {vendor}"

    small_committee, small_voters, _ = _seed_committee("Small committee", 5)
    small = _open_motion(small_committee, "Small ballot")
    _cast_directly(small, small_voters)
    large_committee, large_voters, _ = _seed_committee("Large committee", TALLY_MEMBERS // 2)
    large = _open_motion(large_committee, "Large ballot")
    _cast_directly(large, large_voters)
    small_queries, small_times = _tally_cost(small)
    large_queries, large_times = _tally_cost(large)

    median_latency = median(latencies)
    throughput, base_throughput = len(latencies) / wall, len(base_latencies) / base_wall
    return [
        row(
            "vote",
            "trivial_insert_throughput",
            round(base_throughput, 1),
            unit="POSTs/s",
            note=f"baseline: POST /bench/insert/ (serializer + one INSERT), {len(base_latencies)} POSTs, "
            f"p50 {median(base_latencies):.1f} ms, p99 {p99(base_latencies):.1f} ms, "
            f"{len(base_errors)} errors; {setup}",
        ),
        row(
            "vote",
            "api_vote_latency",
            round(median_latency, 2),
            round(p99(latencies), 2),
            round(p99(latencies) / median_latency, 2),
            "ms",
            f"{len(latencies)} POSTs (a cast and a change each); {setup}; ratio = p99/median; "
            f"{len(errors)} errors; tally {'matches' if consistent else 'DOES NOT match'} the votes sent",
        ),
        row(
            "vote",
            "api_vote_throughput",
            round(throughput, 1),
            ratio=round(throughput / base_throughput, 2),
            unit="votes/s",
            note=f"{len(latencies)} votes in {wall:.2f} s; ratio = against the trivial insert; {setup}",
        ),
        row(
            "vote",
            "tally_queries",
            large_queries,
            large_queries,
            round(large_queries / small_queries, 2),
            "queries",
            f"tally of a {TALLY_MEMBERS}-member ballot; ratio = against a 10-member ballot "
            f"({small_queries} queries): 1.0 is constant; {vendor}",
        ),
        row(
            "vote",
            "tally_time",
            round(median(large_times), 2),
            round(p99(large_times), 2),
            round(median(large_times) / median(small_times), 2),
            "ms",
            f"tally of a {TALLY_MEMBERS}-member ballot, 30 runs; ratio = against a 10-member ballot; {vendor}",
        ),
    ]


if __name__ == "__main__":
    if "--child" in sys.argv:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(child()))
    else:
        for row in run():
            print(json.dumps(row))
