"""Appending to and verifying the audit log. Every service records its changes here."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from governance.models.audit import GENESIS_HASH, AuditEvent

# Any constant will do: it names the one lock that serializes appends to the chain.
_CHAIN_LOCK_KEY = 7_342_001


def _plain(value) -> dict:
    """Dates, decimals and UUIDs as the JSON strings they will be read back as."""
    return json.loads(json.dumps(value or {}, cls=DjangoJSONEncoder))


def record_event(actor, verb: str, obj, before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    Appends are serialized (an advisory lock on PostgreSQL; SQLite's write lock, which the
    IMMEDIATE transaction mode takes at BEGIN), so two concurrent writers can never both
    chain onto the same previous event.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        last = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
        actor = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
        event = AuditEvent(
            sequence=(last["sequence"] + 1) if last else 1,
            created_at=timezone.now(),
            actor=actor,
            actor_repr=actor.get_username() if actor else "system",
            verb=verb,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            object_repr=str(obj)[:300],
            changes=_plain({"before": before or {}, "after": after or {}}),
            prev_hash=last["hash"] if last else GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save()
        return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken: int | None

    def as_dict(self) -> dict:
        return {"ok": self.ok, "checked": self.checked, "first_broken": self.first_broken}


def verify_chain() -> ChainReport:
    """Recompute every hash in order; report the id of the first event that does not hold.

    An event is broken when its own hash does not match its content, when it does not point
    at the previous event's hash, or when its sequence skips (an event was removed).
    """
    expected_prev, expected_sequence, checked = GENESIS_HASH, 1, 0
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000):
        if (
            event.sequence != expected_sequence
            or event.prev_hash != expected_prev
            or event.compute_hash() != event.hash
        ):
            return ChainReport(ok=False, checked=checked + 1, first_broken=event.pk)
        checked += 1
        expected_prev, expected_sequence = event.hash, event.sequence + 1
    return ChainReport(ok=True, checked=checked, first_broken=None)


def snapshot(obj, fields: list[str]) -> dict:
    """The named fields of an object (foreign keys as ids), for an event's before/after."""
    return {name: getattr(obj, obj._meta.get_field(name).attname) for name in fields}
