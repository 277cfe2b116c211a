"""Appending to and verifying the audit log. Every service records its changes here."""

from __future__ import annotations

import functools
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
    _insert(event)
    if connection.in_atomic_block:
        from governance.transparency.integrate import integrate_after_commit

        integrate_after_commit()
    return event


# The columns an event is written with, in order: everything but the id and the leaf index.
_COLUMNS = (
    *("created_at", "actor", "actor_repr", "verb", "object_type", "object_id", "object_repr"),
    *("changes", "salt", "commitment"),
)


@functools.cache
def _insert_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(AuditEvent._meta.get_field(name).column) for name in _COLUMNS)
    values = ", ".join(["%s"] * len(_COLUMNS))
    table = quote(AuditEvent._meta.db_table)
    return f"INSERT INTO {table} ({names}) VALUES ({values}) RETURNING {quote('id')}"  # noqa: S608 - names from the model


def _insert(event: AuditEvent) -> None:
    """One INSERT … RETURNING id, written here rather than by `event.save()`.

    Every audited write in the portal pays for this insert, and the ORM's compiler cost more
    than the insert itself (bench/audit.py measures both against a plain insert). The values
    go through the backend's own adapters, so the row reads back exactly as a saved model's.
    """
    ops = connection.ops
    params = [
        ops.adapt_datetimefield_value(event.created_at),
        event.actor_id,
        event.actor_repr,
        event.verb,
        event.object_type,
        event.object_id,
        event.object_repr,
        ops.adapt_json_value(event.changes, None),
        event.salt,
        event.commitment,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor), params)
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias


def verify_chain():
    """The log's verification report (kept under its old name for its callers): see
    governance.transparency.verify.verify_log."""
    from governance.transparency.verify import verify_log

    return verify_log()


def snapshot(obj, fields: list[str]) -> dict:
    """The named fields of an object (foreign keys as ids), for an event's before/after."""
    return {name: getattr(obj, obj._meta.get_field(name).attname) for name in fields}
