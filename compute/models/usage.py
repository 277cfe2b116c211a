"""Usage summed per resource, month and sector of the charter's lead organization: what the
public view and its open data publish (DESIGN.md 2.8), pre-aggregated so that a page costs the
same after ten years of hourly records as after one month."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from compute.models.ledger import CREDITS
from governance.choices import Sector


class UsageMonthQuerySet(models.QuerySet):
    def published(self) -> UsageMonthQuerySet:
        """Every month's aggregate is public: it names no person and no charter."""
        return self

    def visible_to(self, user) -> UsageMonthQuerySet:
        """Aggregates are for everyone, signed in or not."""
        return self


class UsageMonth(models.Model):
    """Unit-hours and credits of one resource in one calendar month (UTC), for the charters led
    by organizations of one sector. Derived data: rebuilt from the usage records by
    compute.services.credits.usage_months, never edited by hand."""

    resource = models.ForeignKey("compute.Resource", on_delete=models.PROTECT, related_name="usage_months")
    month = models.DateField(help_text="The first day of the month.")
    sector = models.CharField(max_length=20, choices=Sector.choices, help_text="The lead organizations' sector.")
    unit_hours = models.DecimalField(max_digits=18, decimal_places=4)
    credits = models.DecimalField(**CREDITS)
    charters = models.PositiveIntegerField(help_text="How many charters used the resource that month.")
    through_record = models.PositiveBigIntegerField(
        help_text="The newest usage record counted: records after it are summed at the next refresh."
    )

    objects = UsageMonthQuerySet.as_manager()

    class Meta:
        ordering = ["-month", "resource_id", "sector"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "month", "sector"],
                name="usagemonth_one_per_resource_month_sector",
                violation_error_message="This month's usage of the resource is already summed for that sector.",
            ),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="usagemonth_first_of_month",
                violation_error_message="A month is named by its first day.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} {self.month:%Y-%m} {self.sector}: {self.unit_hours}"
