"""The record's integration lag, with the processes a deployment runs: a Celery worker, beat on
its default schedule (integrate every 2 s, push to the witnesses every 5 s) and one witness per
sector, as `make run` starts them. Events are committed at a steady rate from this process,
which asks for an integration on each commit as the web server does (the broker is the
worker's); the log's checkpoints are watched every 50 ms, and for each event the bench reads
how long after its commit a signed checkpoint covered it, and a checkpoint both sectors'
witnesses cosigned.

Run with `make bench B=record` (or `python -m bench record`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import free_port, median, p99, row

ROOT = Path(__file__).resolve().parent.parent
EVENTS = int(os.environ.get("BENCH_RECORD_EVENTS", "300"))
RATE = float(os.environ.get("BENCH_RECORD_RATE", "20"))  # events a second
WATCH_EVERY = 0.05
LOGLEVEL = os.environ.get("BENCH_RECORD_LOGLEVEL", "WARNING")  # the children log to files in their var/


def _database_url() -> str:
    """The URL of the database this run's module got (the runner made it), for the children."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def _processes(env: dict[str, str], var: Path) -> list[subprocess.Popen]:
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "local_witnesses"], cwd=ROOT, env=env, check=True, capture_output=True)
    commands = [
        [sys.executable, "-m", "celery", "-A", "governance", "worker", "--concurrency=2", f"--loglevel={LOGLEVEL}"]
        + ["--without-gossip", "--without-mingle"],
        [sys.executable, "-m", "celery", "-A", "governance", "beat", f"--loglevel={LOGLEVEL}"]
        + ["--schedule", str(var / "beat-schedule")],
        [*manage, "witness", "--sector", "public", "--listen", f"127.0.0.1:{env['WITNESS_PUBLIC_PORT']}"],
        [*manage, "witness", "--sector", "private", "--listen", f"127.0.0.1:{env['WITNESS_PRIVATE_PORT']}"],
    ]
    return [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=(var / f"{n}.log").open("wb"), stderr=subprocess.STDOUT)
        for n, command in enumerate(commands)
    ]


def _send_to_the_workers_broker(var: Path):
    """Send tasks (the integrations asked for on commit) where the worker reads them: the same
    Redis, or the filesystem broker in the children's var/; returns how to undo it."""
    from django.conf import settings

    from governance.celery import app

    saved = dict(app.conf.broker_transport_options or {}), app.conf.task_always_eager
    if not settings.REDIS_URL:
        folder = var / "celery"
        for sub in ("out", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        app.conf.broker_transport_options = {
            **saved[0],
            "data_folder_in": str(folder / "out"),
            "data_folder_out": str(folder / "out"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
        }
    app.conf.task_always_eager = False

    def restore() -> None:
        app.conf.broker_transport_options, app.conf.task_always_eager = saved

    return restore


def _write_events(admin, done: threading.Event, committed: list[tuple[int, float]], count: int = EVENTS) -> None:
    from django.db import connection, transaction

    from governance.audit import record_event
    from governance.choices import Sector
    from governance.models import Organization

    try:
        started = time.perf_counter()
        for n in range(count):
            with transaction.atomic():
                organization = Organization.objects.create(name=f"Lag {n} {time.time()}", sector=Sector.PUBLIC)
                event = record_event(admin, "organization.created", organization, after={"name": organization.name})
            committed.append((event.pk, time.perf_counter()))
            pause = started + (n + 1) / RATE - time.perf_counter()
            if pause > 0:
                done.wait(pause)
    finally:
        connection.close()
        done.set()


def _all_integrated() -> bool:
    from governance.models import AuditEvent

    return not AuditEvent.objects.filter(leaf_index__isnull=True).exists()


def run() -> list[dict]:
    from django.db.models import Max

    from governance.models import AuditEvent, LogCheckpoint, User
    from governance.transparency.links import cosigned_size

    var = Path(tempfile.mkdtemp(prefix="tgb-bench-record-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DATABASE_URL": _database_url(),
        "TGB_VAR_DIR": str(var),
        "LOG_WITNESSES": str(var / "witnesses"),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "WITNESS_PUBLIC_PORT": str(free_port()),
        "WITNESS_PRIVATE_PORT": str(free_port()),
    }
    admin = User.objects.create_superuser("bench-record", "record@example.org", None)
    children = _processes(env, var)
    restore = _send_to_the_workers_broker(var)
    try:
        # Ready when a first event is in a checkpoint both witnesses cosigned: the worker, beat
        # and the witnesses are all up, and the measured events do not count their start.
        done = threading.Event()
        _write_events(admin, done, [], count=1)
        give_up = time.perf_counter() + 180
        while cosigned_size() < 1:
            if time.perf_counter() > give_up:
                raise RuntimeError(f"no cosigned checkpoint after 180 s; the children's logs are in {var}")
            time.sleep(WATCH_EVERY)
        committed: list[tuple[int, float]] = []
        done = threading.Event()
        writer = threading.Thread(target=_write_events, args=(admin, done, committed))
        writer.start()
        samples: list[tuple[float, int, int]] = []
        deadline = None
        while True:
            now = time.perf_counter()
            signed = LogCheckpoint.objects.aggregate(size=Max("size"))["size"] or 0
            samples.append((now, signed, cosigned_size()))
            if done.is_set() and deadline is None:
                deadline = now + 60
            if deadline and (now > deadline or (samples[-1][2] >= samples[-1][1] and _all_integrated())):
                break
            time.sleep(WATCH_EVERY)
        writer.join()
    finally:
        restore()
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(5)
    leaves = dict(AuditEvent.objects.filter(pk__in=[pk for pk, _ in committed]).values_list("pk", "leaf_index"))

    def lags(column: int) -> tuple[list[float], int]:
        found, missing = [], 0
        for pk, at in committed:
            leaf = leaves.get(pk)
            covered = next((t for t, *sizes in samples if leaf is not None and sizes[column] > leaf), None)
            if covered is None:
                missing += 1
            else:
                found.append(max(covered - at, 0.0))
        return found, missing

    setup = f"{len(committed)} events at {RATE:g}/s; worker, beat (integrate every 2 s, push every 5 s), 2 witnesses"
    rows = []
    for column, metric in ((0, "commit to a signed checkpoint"), (1, "commit to a checkpoint both witnesses cosigned")):
        found, missing = lags(column)
        low, high = (median(found), p99(found)) if found else (None, None)
        rows.append(row("record", metric, low, high, unit="s", note=f"{setup}; {missing} never covered"))
    return rows
