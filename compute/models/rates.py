"""Credit rates of the shared resources: the exchange rate between kinds, versioned in time."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from governance.models.base import AppendOnlyModel, AppendOnlyQuerySet

RATE_FIELD = {"max_digits": 12, "decimal_places": 4}


class ResourceRateQuerySet(AppendOnlyQuerySet):
    def in_effect_at(self, resource, at: datetime.datetime) -> ResourceRate | None:
        """The rate of `resource` that prices usage at `at`: the latest one in effect by then.

        A resource's first rate also prices usage from before it, so usage recorded before
        anyone set a price is still charged (usage is never refused)."""
        rates = self.filter(resource=resource)
        return (
            rates.filter(effective_from__lte=at).order_by("-effective_from").first()
            or rates.order_by("effective_from").first()
        )


class ResourceRate(AppendOnlyModel):
    """How many credits one unit-hour of a resource costs, from `effective_from` on.

    Rates are versioned, never edited: a change is a new row with a later effective date, so
    usage charged before it keeps the price it was charged at (each debit records its rate).
    """

    append_only_message = "A rate is never changed or removed: past usage was priced with it; add a new one."

    resource = models.ForeignKey("compute.Resource", on_delete=models.PROTECT, related_name="rates")
    rate = models.DecimalField("credits per unit-hour", validators=[MinValueValidator(Decimal("0"))], **RATE_FIELD)
    effective_from = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ResourceRateQuerySet.as_manager()

    class Meta:
        ordering = ["resource", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "effective_from"],
                name="resourcerate_unique_effective_from",
                violation_error_message="This resource already has a rate taking effect at that moment.",
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0),
                name="resourcerate_rate_non_negative",
                violation_error_message="A rate cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rate} credits per unit-hour from {self.effective_from:%Y-%m-%d %H:%M}"
