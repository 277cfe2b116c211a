"""What an administrator maps: an identity provider's claim values to an organization and to
portal roles. A mapping never seats anyone: seats follow DESIGN.md 2.7 (both co-chairs or a
ballot once a committee is constituted); single sign-on only makes the person and their portal
roles."""

from __future__ import annotations

from django.db import models
from django_otp.models import Device

from governance.choices import PortalRole
from governance.models.base import TimeStampedModel

# The portal roles a sign-in may give or take: those that no seat carries. Co-chairs, members
# and secretaries get their groups from their seats (governance.services.people.ROLE_GROUPS).
SSO_ROLES = (PortalRole.PROGRAM_MANAGER, PortalRole.STAFF, PortalRole.AUDITOR)


class SsoRole(models.TextChoices):
    PROGRAM_MANAGER = PortalRole.PROGRAM_MANAGER.value, PortalRole.PROGRAM_MANAGER.label
    STAFF = PortalRole.STAFF.value, PortalRole.STAFF.label
    AUDITOR = PortalRole.AUDITOR.value, PortalRole.AUDITOR.label


class OrganizationMapping(TimeStampedModel):
    """People of this issuer whose organization claim holds this value work for this
    organization. A person no mapping matches is refused at sign-in."""

    issuer = models.URLField(
        max_length=300, help_text="The identity provider's issuer, exactly as its tokens name it (the `iss` claim)."
    )
    claim_value = models.CharField(
        max_length=200, help_text="The value of the organization claim that names this organization."
    )
    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.PROTECT, related_name="identity_mappings"
    )

    class Meta:
        ordering = ["issuer", "claim_value"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "claim_value"], name="identity_orgmapping_unique_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.claim_value} at {self.issuer} → {self.organization}"


class RoleMapping(models.Model):
    """A value of the roles claim that gives a person of the mapped organization a portal role."""

    mapping = models.ForeignKey(OrganizationMapping, on_delete=models.CASCADE, related_name="roles")
    claim_value = models.CharField(max_length=200, help_text="A value of the roles claim.")
    role = models.CharField(max_length=40, choices=SsoRole.choices)

    class Meta:
        ordering = ["claim_value", "role"]
        constraints = [
            models.UniqueConstraint(fields=["mapping", "claim_value", "role"], name="identity_rolemapping_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.claim_value} → {self.get_role_display()}"


class IdentityProviderDevice(Device):
    """The identity provider as a second factor: a session whose provider reported
    multi-factor sign-in (amr/acr) is marked verified with this device, so the portal's
    two-factor middleware lets it through. It takes no codes and is an `external_factor`, so
    it never counts as the person having two-factor sign-in of their own
    (governance.two_factor.has_two_factor): a later sign-in without multi-factor gets no
    pass from it."""

    external_factor = True

    def verify_token(self, token) -> bool:
        return False
