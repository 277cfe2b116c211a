"""Portal roles (auth groups) and the model permissions each carries.

Kept as code, and applied after every migration, so a fresh database and a test database
always hold the same roles. Object-level rights (a chair over their committee) are granted
with django-guardian by the services, not here.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from governance.choices import PortalRole

# The object permission a committee's co-chairs and secretary hold over it (granted with their
# seats by governance.services.people).
MANAGE_COMMITTEE = "governance.manage_committee"


def is_administrator(user) -> bool:
    """Portal administrators (superusers and Django staff) see everything, and bootstrap a
    committee's first seats; every other power of theirs is bounded by DESIGN.md 2.7."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.is_staff))


ROLE_PERMISSIONS: dict[str, list[str]] = {
    PortalRole.COMMITTEE_MEMBER: ["compute.view_creditaccount"],
    PortalRole.CO_CHAIR: ["governance.view_auditevent", "compute.view_creditaccount"],
    PortalRole.SECRETARY: ["governance.view_auditevent", "compute.view_creditaccount"],
    PortalRole.PROGRAM_MANAGER: ["charters.add_charter", "roadmap.manage_roadmap"],
    PortalRole.STAFF: ["charters.add_charter", "charters.add_datauseagreement", "charters.add_dataset"],
    PortalRole.AUDITOR: ["governance.view_auditevent", "governance.view_user", "compute.view_creditaccount"],
}


def ensure_portal_roles(**kwargs) -> None:
    """Create the role groups and give each exactly its listed permissions (idempotent)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
