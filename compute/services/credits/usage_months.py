"""The public usage aggregates (compute.models.UsageMonth): rebuilt for the months that new
usage records touch, so each refresh costs as much as the new usage, not the whole history."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Sum
from django.db.models.functions import TruncMonth

from compute.models import UsageMonth, UsageRecord
from compute.models.ledger import ZERO
from governance.public.cache import invalidate as invalidate_public_pages


def refresh_usage_months() -> int:
    """Sum again every (resource, month, sector) that a usage record newer than the last refresh
    falls in; returns how many months were rebuilt. Safe to run twice: the rows of a month are
    replaced inside one transaction, and a refresh that meets a concurrent one's rows (the
    unique constraint) leaves the work to it."""
    try:
        return _refresh()
    except IntegrityError:
        return 0


def _refresh() -> int:
    with transaction.atomic():
        last = UsageMonth.objects.aggregate(last=Max("through_record"))["last"] or 0
        newer = UsageRecord.objects.filter(pk__gt=last)
        months = sorted(
            {
                day.date() if isinstance(day, datetime.datetime) else day
                for day in newer.annotate(m=TruncMonth("hour", tzinfo=datetime.UTC))
                .order_by()
                .values_list("m", flat=True)
                .distinct()
            }
        )
        if not months:
            return 0
        through = newer.aggregate(top=Max("pk"))["top"]
        for month in months:
            _rebuild(month, through)
        # A month that got no new record keeps its rows: move its watermark along too, so the
        # next refresh starts after the records counted here.
        UsageMonth.objects.filter(through_record__lt=through).update(through_record=through)
    invalidate_public_pages()
    return len(months)


def _rebuild(month: datetime.date, through: int) -> None:
    start = datetime.datetime.combine(month, datetime.time(), tzinfo=datetime.UTC)
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    rows = (
        UsageRecord.objects.filter(hour__gte=start, hour__lt=end, pk__lte=through)
        .values("resource_id", "charter__lead_organization__sector")
        .annotate(unit_hours=Sum("unit_hours"), credits=Sum("credits"), charters=Count("charter_id", distinct=True))
        .order_by()
    )
    UsageMonth.objects.filter(month=month).delete()
    UsageMonth.objects.bulk_create(
        UsageMonth(
            resource_id=row["resource_id"],
            month=month,
            sector=row["charter__lead_organization__sector"],
            unit_hours=row["unit_hours"] or ZERO,
            credits=row["credits"] or ZERO,
            charters=row["charters"],
            through_record=through,
        )
        for row in rows
    )
