"""Appending to and verifying the audit log. Every service records its changes here."""

from __future__ import annotations

import json
import os

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from governance.models.audit import AuditEvent
from governance.transparency.proof import commitment

# The ledger still serializes its own postings on this advisory lock (compute.services.credits.posting);
# appending an event no longer takes it.
_CHAIN_LOCK_KEY = 7_342_001


def _plain(value) -> dict:
    """Dates, decimals and UUIDs as the JSON strings they will be read back as."""
    return json.loads(json.dumps(value or {}, cls=DjangoJSONEncoder))


def record_event(actor, verb: str, obj, before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Insert one event, in the caller's transaction, and nothing else.

    No lock: the event commits to its own content (a random salt and SHA-256 of its canonical
    JSON) and gets its place in the log later, from the integrator that runs once the
    transaction has committed (governance.transparency.integrate), so writers never wait on
    each other here.
    """
    actor = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        created_at=timezone.now(),
        actor=actor,
        actor_repr=actor.get_username() if actor else "system",
        verb=verb,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        changes=_plain({"before": before or {}, "after": after or {}}),
        salt=os.urandom(32),
    )
    event.commitment = commitment(event.salt, event.entry())
    event.save()
    if connection.in_atomic_block:
        from governance.transparency.integrate import integrate_after_commit

        integrate_after_commit()
    return event


def verify_chain():
    """The log's verification report (kept under its old name for its callers): see
    governance.transparency.verify.verify_log."""
    from governance.transparency.verify import verify_log

    return verify_log()


def snapshot(obj, fields: list[str]) -> dict:
    """The named fields of an object (foreign keys as ids), for an event's before/after."""
    return {name: getattr(obj, obj._meta.get_field(name).attname) for name in fields}
