"""Shared infrastructure resources: GPU clusters, CPU pools, storage."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from compute.choices import UNIT_OF_KIND, ResourceKind, ResourceStatus
from governance import values
from governance.models import TimeStampedModel


class ResourceQuerySet(models.QuerySet):
    def published(self) -> ResourceQuerySet:
        """The shared infrastructure is public: its name, kind, jurisdiction and rate."""
        return self

    def visible_to(self, user) -> ResourceQuerySet:
        """The shared infrastructure is known to every signed-in user."""
        if not (user and user.is_authenticated):
            return self.none()
        return self


class Resource(TimeStampedModel):
    """A piece of shared infrastructure whose use is paid for in credits."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=ResourceKind.choices)
    description = models.TextField(blank=True)
    capacity = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="How many units it has (GPUs, cores, TB).",
    )
    jurisdiction = models.CharField(
        max_length=64, validators=[values.valid_jurisdiction], help_text="Where the hardware and its data reside."
    )
    tee_capable = models.BooleanField("TEE capable", default=False, help_text="Offers trusted execution environments.")
    status = models.CharField(max_length=20, choices=ResourceStatus.choices, default=ResourceStatus.ACTIVE)

    objects = ResourceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                name="resource_unique_name",
                violation_error_message="A resource with this name already exists.",
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=0),
                name="resource_capacity_non_negative",
                violation_error_message="Capacity cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def unit(self) -> str:
        """The unit its usage is counted in, e.g. GPU-hour."""
        return UNIT_OF_KIND[self.kind]
