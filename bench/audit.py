"""The audit log: what recording an event costs beside a plain insert, how fast the integrator
makes leaves and signs checkpoints, and verification speed."""

from __future__ import annotations

from bench.common import median, p99, row, timings


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
            record_event(actor, "organization.created", organization, after={"name": organization.name})

    plain = timings(plain_insert, repeat=300, warmup=20)
    audited = timings(audited_insert, repeat=300, warmup=20)
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
