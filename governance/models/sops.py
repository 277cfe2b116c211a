"""Standard operating procedures: versioned documents the committee adopts by ballot."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from governance.choices import SOPCategory, SOPVersionStatus
from governance.models.base import TimeStampedModel


class SOPQuerySet(models.QuerySet):
    def visible_to(self, user) -> SOPQuerySet:
        """The body's procedures are known to every signed-in user."""
        if not (user and user.is_authenticated):
            return self.none()
        return self


class SOP(TimeStampedModel):
    """A procedure of a committee (decision-making, conflict resolution, progress reporting…).

    Its text lives in numbered versions; the one in force is the single adopted version.
    """

    committee = models.ForeignKey("governance.Committee", on_delete=models.PROTECT, related_name="sops")
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=SOPCategory.choices, default=SOPCategory.OTHER)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )

    objects = SOPQuerySet.as_manager()

    class Meta:
        verbose_name = "SOP"
        verbose_name_plural = "SOPs"
        ordering = ["committee", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "title"],
                name="sop_unique_title",
                violation_error_message="This committee already has a procedure with this title.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def adopted_version(self) -> SOPVersion | None:
        """The version in force, if any (prefetched `versions` are used when present)."""
        return next((v for v in self.versions.all() if v.status == SOPVersionStatus.ADOPTED), None)


class SOPVersion(TimeStampedModel):
    """One numbered text of a procedure. Adopted, superseded and rejected texts never change."""

    sop = models.ForeignKey(SOP, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField()
    change_summary = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=SOPVersionStatus.choices, default=SOPVersionStatus.DRAFT)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    adopted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sop", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["sop", "number"],
                name="sopversion_unique_number",
                violation_error_message="This procedure already has a version with this number.",
            ),
            models.UniqueConstraint(
                fields=["sop"],
                condition=Q(status=SOPVersionStatus.ADOPTED),
                name="sopversion_one_adopted",
                violation_error_message="Only one version of a procedure is in force.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=SOPVersionStatus.values),
                name="sopversion_status_valid",
                violation_error_message="Unknown SOP version status.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sop} v{self.number}"

    @property
    def editable(self) -> bool:
        return self.status == SOPVersionStatus.DRAFT
