"""Usage metering: hourly debits at the rate in effect, idempotent per (source, resource,
charter, hour), and the import of accounting systems' exports."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from compute.choices import AccountKind, TransactionKind
from compute.models import LedgerTransaction, Resource, ResourceRate, UsageRecord
from compute.models.ledger import ZERO
from compute.services.credits import alerts, batch_sql, batches, pools, posting

logger = logging.getLogger(__name__)


def post_usage(
    *, source: str, resource: Resource, charter, hour: datetime.datetime, unit_hours, actor=None
) -> LedgerTransaction | None:
    """Charge a charter for `unit_hours` of `resource` in the hour starting at `hour`.

    Idempotent on (source, resource, charter, hour), which a unique constraint enforces:
    posting the same usage again charges nothing and returns None. Usage is never refused
    (it already happened): an account without enough credits goes below zero, is flagged as
    overdrawn and alerted. The debit uses the rate in effect at `hour` and records it.
    Returns the debit, or None when nothing was charged (already posted, or zero credits).
    """
    if not isinstance(hour, datetime.datetime) or timezone.is_naive(hour):
        raise ValidationError({"hour": "Give the hour as a timezone-aware datetime."})
    hour = hour.replace(minute=0, second=0, microsecond=0)
    try:
        unit_hours = Decimal(unit_hours).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise ValidationError({"unit_hours": f"'{unit_hours}' is not a number."}) from error
    if unit_hours < 0:
        raise ValidationError({"unit_hours": "Usage cannot be negative."})
    key = {"source": source, "resource": resource, "charter": charter, "hour": hour}
    if UsageRecord.objects.filter(**key).exists():
        # Already posted (records are never removed): answer without waiting for any lock.
        return None
    try:
        with transaction.atomic():
            return _post_usage(key, unit_hours, actor)
    except IntegrityError:
        # A concurrent posting of the same key won the race; it charged, this one does not.
        if UsageRecord.objects.filter(**key).exists():
            return None
        raise


def _post_usage(key: dict, unit_hours: Decimal, actor) -> LedgerTransaction | None:
    posting.lock_ledger()
    if UsageRecord.objects.filter(**key).exists():
        return None
    resource, charter, hour = key["resource"], key["charter"], key["hour"]
    rate = ResourceRate.objects.in_effect_at(resource, hour)
    rate_value = rate.rate if rate else ZERO
    if rate is None:
        logger.warning("%s has no credit rate: usage at %s is recorded but not charged.", resource, hour)
    amount = posting.credits(unit_hours * rate_value)
    account = pools.open_account(charter, actor)
    debit = None
    if amount > 0:
        usage = posting.system_account(AccountKind.USAGE)
        locked = posting.lock_accounts([account, usage])
        account = locked[account.pk]
        draws = posting.draw(account, amount, overdraft=True)
        pool_of = posting.pools_by_id(pool for pool, _ in draws)
        legs = [posting.Leg(account, pool_of[pool], -part) for pool, part in draws]
        legs += [posting.Leg(locked[usage.pk], pool_of[pool], part) for pool, part in draws]
        debit = posting.post(
            TransactionKind.USAGE,
            legs,
            actor=actor,
            occurred_at=hour,
            memo=(
                f"{posting.fmt_credits(unit_hours)} {resource.unit}s on {resource} "
                f"at {posting.fmt_credits(rate_value)} ({key['source']})"
            ),
        )
    UsageRecord.objects.create(
        unit_hours=unit_hours, rate=rate, rate_value=rate_value, credits=amount, transaction=debit, **key
    )
    if debit is not None:
        alerts.check_alerts(account)
    return debit


class _DryRun(Exception):
    def __init__(self, result: batches.BatchResult) -> None:
        self.result = result


def post_usage_batch(
    lines: Iterable[batches.UsageLine] | batch_sql.Priced, *, source: str, actor=None, dry_run: bool = False
) -> batches.BatchResult:
    """Post a batch of usage lines in one transaction (compute.services.credits.batches).

    The same charges as post_usage for each line in the batch's order, written set-based:
    COPY and SQL on PostgreSQL, bulk inserts on SQLite. `source` names the batch (each line
    carries its own key's source). With `dry_run` the batch is charged and rolled back:
    nothing is written, and the result says what would have been charged. An unknown
    resource or charter refuses the whole batch."""
    try:
        with transaction.atomic():
            posting.lock_ledger()
            if connection.vendor == "postgresql":
                result = batch_sql.post(lines, source=source, actor=actor)
            elif isinstance(lines, batch_sql.Priced):
                raise TypeError("Lines staged in SQL are PostgreSQL's alone.")
            else:
                result = batches.post_in_python(list(lines), source=source, actor=actor)
            if dry_run:
                raise _DryRun(result)
    except _DryRun as stopped:
        stopped.result.batch = None
        stopped.result.alerts = []
        return stopped.result
    return result
