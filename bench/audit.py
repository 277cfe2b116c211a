"""The audit log: what recording an event costs beside a plain insert, how fast the integrator
makes leaves and signs checkpoints, and verification speed."""

from __future__ import annotations

import functools

from bench.common import in_parallel, median, p99, row, timings

PROCESSES = 8
WRITES = 400


def _audited_write(task: tuple) -> tuple[float | None, str]:
    """One audited write on its own object, in a worker process."""
    import time

    from django.db import transaction

    from governance.audit import record_event
    from governance.choices import Sector
    from governance.models import Organization, User

    if task[0] == "connect":
        return (0.0, "") if User.objects.exists() else (None, "no users")
    _, actor_id, name = task
    _actor(actor_id)
    started = time.perf_counter()
    try:
        with transaction.atomic():
            organization = Organization.objects.create(name=name, sector=Sector.PUBLIC)
            record_event(_actor(actor_id), "organization.created", organization, after=_after(organization))
    except Exception as error:  # noqa: BLE001 - reported to the parent
        return None, type(error).__name__
    return time.perf_counter() - started, ""


@functools.cache
def _actor(pk: int):
    from governance.models import User

    return User.objects.get(pk=pk)


def _after(organization) -> dict:
    return {"name": organization.name, "sector": organization.sector}


def run() -> list[dict]:
    import time

    from django.db import transaction

    from governance.audit import record_event, verify_chain
    from governance.choices import Sector
    from governance.models import AuditEvent, Organization, User
    from governance.transparency.integrate import integrate

    actor = User.objects.create_superuser("bench-admin", "bench@example.org", "bench-password-1")
    counter = iter(range(10**9))

    def plain_insert():
        with transaction.atomic():
            Organization.objects.create(name=f"Plain {next(counter)}", sector=Sector.PUBLIC)

    def audited_insert():
        with transaction.atomic():
            organization = Organization.objects.create(name=f"Audited {next(counter)}", sector=Sector.PUBLIC)
            record_event(actor, "organization.created", organization, after=_after(organization))

    plain = timings(plain_insert, repeat=300, warmup=20)
    audited = timings(audited_insert, repeat=300, warmup=20)
    # The plain rows have no event by design; the log's replay would rightly report them.
    Organization.objects.filter(name__startswith="Plain ").delete()
    # Audited writes on different objects, from 1 process and from 8: no lock between them.
    serial, serial_wall, serial_errors = in_parallel(
        _audited_write, [("write", actor.pk, f"Serial {n}") for n in range(WRITES // 4)], 1
    )
    parallel, parallel_wall, parallel_errors = in_parallel(
        _audited_write, [("write", actor.pk, f"Parallel {n}") for n in range(WRITES)], PROCESSES
    )
    serial_rate, parallel_rate = len(serial) / serial_wall, len(parallel) / parallel_wall
    while AuditEvent.objects.count() < 5000:
        audited_insert()
    events = AuditEvent.objects.count()
    started = time.perf_counter()
    integrated = integrate()
    integrating = time.perf_counter() - started
    verify = timings(lambda: verify_chain(), repeat=5)
    assert verify_chain().ok
    return [
        row("audit", "insert, no audit event", median(plain) * 1000, p99(plain) * 1000, 1.0, "ms", "baseline"),
        row(
            "audit",
            "insert + audit event",
            median(audited) * 1000,
            p99(audited) * 1000,
            median(audited) / median(plain),
            "ms",
            "ratio vs baseline",
        ),
        row(
            "audit",
            f"audited writes per second, {PROCESSES} processes",
            parallel_rate,
            None,
            parallel_rate / serial_rate,
            "writes/s",
            f"{len(parallel)} writes on different objects; ratio vs 1 process ({serial_rate:.0f}/s); "
            f"{len(serial_errors) + len(parallel_errors)} errors",
        ),
        row(
            "audit",
            "integrate (leaves, nodes, checkpoint)",
            integrated / integrating,
            None,
            None,
            "events/s",
            f"{integrated} events in batches of 1000, {integrating * 1000:.0f} ms",
        ),
        row(
            "audit",
            "verify log",
            events / median(verify),
            None,
            None,
            "events/s",
            f"{events} events, {median(verify) * 1000:.0f} ms",
        ),
    ]
