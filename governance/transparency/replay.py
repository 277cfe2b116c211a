"""The tables answer to the log (DESIGN §2.6): replay the events against the rows they made, so a
row changed without the log is as visible as a log changed without the rows.

Each replayer takes no arguments and returns the problems it found, one sentence each. Apps add
theirs to REPLAYERS by dotted path, so governance never imports another app's models.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.module_loading import import_string

from governance.audit import snapshot
from governance.choices import BallotStatus
from governance.models import AuditEvent, Ballot, Membership, Organization, Vote
from governance.services.seats import MEMBERSHIP_FIELDS

REPLAYERS = [
    "governance.transparency.replay.replay_votes",
    "governance.transparency.replay.replay_closed_ballots",
    "governance.transparency.replay.replay_seats",
    "governance.transparency.replay.replay_ledger",
    "compute.services.credits.debits.replay_usage_batches",
]


def _plain(value) -> object:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def latest_events(object_type: str, verbs: Iterable[str]) -> dict[str, dict]:
    """The `after` of the newest event of these verbs for each object of a type, by object id."""
    found: dict[str, dict] = {}
    rows = AuditEvent.objects.filter(object_type=object_type, verb__in=list(verbs)).order_by("id")
    for object_id, after in rows.values_list("object_id", "changes__after").iterator(chunk_size=2000):
        found[object_id] = after or {}
    return found


def replay_votes() -> list[str]:
    """Each vote's choice, sector and ballot are those of its last vote.cast or vote.changed event,
    and every vote an event made still exists."""
    problems = []
    events = latest_events(Vote._meta.label_lower, ("vote.cast", "vote.changed"))
    seen = set()
    for vote in Vote.objects.only("id", "ballot_id", "sector", "choice", "cast_by_id").iterator(chunk_size=2000):
        seen.add(str(vote.pk))
        after = events.get(str(vote.pk))
        if after is None:
            problems.append(f"vote {vote.pk} has no event in the log")
        elif after.get("choice") != vote.choice or after.get("ballot", vote.ballot_id) != vote.ballot_id:
            problems.append(f"vote {vote.pk} says {vote.choice!r}, its events say {after.get('choice')!r}")
        elif "sector" in after and after["sector"] != vote.sector:
            problems.append(f"vote {vote.pk} is counted for {vote.sector}, its events say {after['sector']}")
        elif after.get("cast_by") != vote.cast_by_id:
            # Who cast a seat's vote (the member, or their substitute) is part of the record.
            problems.append(
                f"vote {vote.pk} says it was cast by {vote.cast_by_id or 'the member'}, "
                f"its events say {after.get('cast_by') or 'the member'}"
            )
    problems.extend(f"vote {pk} was cast in the log but is gone from the table" for pk in set(events) - seen)
    return problems


def replay_closed_ballots() -> list[str]:
    """Each closed ballot's outcome and frozen tally are those its ballot.closed event recorded."""
    problems = []
    events = latest_events(Ballot._meta.label_lower, ("ballot.closed",))
    for ballot in Ballot.objects.filter(status=BallotStatus.CLOSED).only("id", "outcome", "result"):
        after = events.get(str(ballot.pk))
        if after is None:
            problems.append(f"closed ballot {ballot.pk} has no ballot.closed event")
            continue
        if after.get("outcome") != ballot.outcome:
            problems.append(
                f"ballot {ballot.pk}'s outcome is {ballot.outcome!r}, its event says {after.get('outcome')!r}"
            )
        if "tally" in after and _plain(ballot.result) != after["tally"]:
            problems.append(f"ballot {ballot.pk}'s tally differs from the one its closing event recorded")
    return problems


def replay_seats() -> list[str]:
    """Each seat is what its newest membership event recorded (person, committee, organization,
    role, voting, term), and each organization's sector what its newest event recorded: a seat
    given, re-roled or moved to the other sector behind the log's back changes a sector's weight
    in every tally after it."""
    problems = []
    events = latest_events(Membership._meta.label_lower, ("membership.created", "membership.updated"))
    seen = set()
    for seat in Membership.objects.only("id", *MEMBERSHIP_FIELDS).iterator(chunk_size=2000):
        seen.add(str(seat.pk))
        after = events.get(str(seat.pk))
        if after is None:
            problems.append(f"seat {seat.pk} has no event in the log")
            continue
        differing = sorted(
            name for name, value in _plain(snapshot(seat, MEMBERSHIP_FIELDS)).items() if after.get(name) != value
        )
        if differing:
            names = " and ".join(differing)
            verb = "differs" if len(differing) == 1 else "differ"
            problems.append(f"seat {seat.pk}'s {names} {verb} from what its events recorded")
    problems.extend(f"seat {pk} was given in the log but is gone from the table" for pk in set(events) - seen)
    sectors = latest_events(Organization._meta.label_lower, ("organization.created", "organization.updated"))
    for organization in Organization.objects.only("id", "sector"):
        after = sectors.get(str(organization.pk))
        if after is None:
            problems.append(f"organization {organization.pk} has no event in the log")
        elif after.get("sector") != organization.sector:
            problems.append(
                f"organization {organization.pk} is in the {organization.sector} sector, "
                f"its events say {after.get('sector')}"
            )
    return problems


def replay_ledger() -> list[str]:
    """Each ledger transaction's entries are exactly those its ledger.* event recorded."""
    from django.apps import apps

    if not apps.is_installed("compute"):
        return []
    LedgerTransaction = apps.get_model("compute", "LedgerTransaction")  # noqa: N806 - a model class
    problems = []
    recorded: dict[str, list] = {}
    rows = AuditEvent.objects.filter(object_type=LedgerTransaction._meta.label_lower, verb__startswith="ledger.")
    for object_id, after in rows.values_list("object_id", "changes__after").iterator(chunk_size=2000):
        recorded[object_id] = (after or {}).get("entries", [])

    def key(account, pool, amount) -> tuple:
        try:
            return (int(account), None if pool is None else int(pool), Decimal(str(amount)))
        except (InvalidOperation, TypeError, ValueError):
            return (account, pool, amount)

    # A batched usage debit has no event of its own: its batch's event commits to it, and
    # compute's replay_usage_batches checks it against that.
    own = LedgerTransaction.objects.exclude(usage_records__batch__isnull=False)
    for txn in own.prefetch_related("entries").iterator(chunk_size=500):
        entries = recorded.get(str(txn.pk))
        if entries is None:
            problems.append(f"ledger transaction {txn.pk} has no event in the log")
            continue
        in_table = sorted(key(e.account_id, e.pool_id, e.amount) for e in txn.entries.all())
        in_log = sorted(key(e.get("account"), e.get("pool"), e.get("amount")) for e in entries)
        if in_table != in_log:
            problems.append(f"ledger transaction {txn.pk}'s entries differ from those its event recorded")
    return problems


def replay() -> list[str]:
    """Every replayer's problems, in order."""
    problems: list[str] = []
    for path in REPLAYERS:
        replayer: Callable[[], list[str]] = import_string(path)
        problems.extend(replayer())
    return problems
