"""API tokens: expiring, revocable, and stored only as a hash (DESIGN.md 2.7)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def hash_key(key: str) -> str:
    """The stored form of a token: its SHA-256. The key itself is shown once, when issued."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self) -> ApiTokenQuerySet:
        """Tokens that still open the API: neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())

    def visible_to(self, user) -> ApiTokenQuerySet:
        """A person sees their own tokens; administrators see everyone's (never the keys)."""
        if not (user and user.is_authenticated):
            return self.none()
        if user.is_superuser or user.is_staff:
            return self
        return self.filter(user=user)


class ApiToken(models.Model):
    """One API token of a person. Only its hash and a short prefix (to tell tokens apart in
    lists) are kept; a stolen database yields no usable key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False, help_text="The key's first characters.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    verified_two_factor = models.BooleanField(
        default=False, help_text="Issued after the person's two-factor code was checked."
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="apitoken_expires_after_creation",
                violation_error_message="A token expires after it is issued.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… of {self.user}"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
