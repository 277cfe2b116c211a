"""Models of the charters app: the project charter and what hangs off it."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from charters.choices import CharterStatus, DataClassification, IPFramework
from governance.models import TimeStampedModel


class CharterQuerySet(models.QuerySet):
    def visible_to(self, user) -> CharterQuerySet:
        """Drafts are seen by their author and the people of their lead organization; every
        charter past draft is part of the body's record and seen by every signed-in user."""
        if not (user and user.is_authenticated):
            return self.none()
        if user.is_superuser or user.is_staff:
            return self
        visible = ~Q(status=CharterStatus.DRAFT) | Q(created_by=user)
        if user.organization_id:
            visible |= Q(lead_organization_id=user.organization_id)
        return self.filter(visible)


class Charter(TimeStampedModel):
    """A joint project the body decides on: who leads it, with what data, under which IP model."""

    committee = models.ForeignKey("governance.Committee", on_delete=models.PROTECT, related_name="charters")
    title = models.CharField(max_length=200)
    summary = models.TextField()
    objectives = models.TextField(blank=True)
    national_impact = models.TextField(
        "national impact statement", blank=True, help_text="How the project serves the public interest."
    )
    lead_organization = models.ForeignKey(
        "governance.Organization", on_delete=models.PROTECT, related_name="led_charters"
    )
    participating_organizations = models.ManyToManyField(
        "governance.Organization", blank=True, related_name="participating_charters"
    )
    ip_framework = models.CharField("IP framework", max_length=32, choices=IPFramework.choices)
    licence_terms = models.TextField(blank=True)
    data_classification = models.CharField(
        max_length=16, choices=DataClassification.choices, default=DataClassification.INTERNAL
    )
    allowed_jurisdictions = models.JSONField(
        default=list, blank=True, help_text="Jurisdictions where the project's data and compute may reside."
    )
    requested_credits = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    status = models.CharField(max_length=24, choices=CharterStatus.choices, default=CharterStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="charters_created")

    objects = CharterQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CharterStatus.values),
                name="charter_status_valid",
                violation_error_message="Unknown charter status.",
            ),
            models.CheckConstraint(
                condition=Q(requested_credits__gte=0),
                name="charter_requested_credits_non_negative",
                violation_error_message="Requested credits cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def party_organization_ids(self) -> set[int]:
        """The lead and participating organizations: their members recuse on this charter."""
        return {self.lead_organization_id, *self.participating_organizations.values_list("pk", flat=True)}
