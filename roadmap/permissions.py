"""Who may do what in the roadmap app: one function per act, named by the act.

Everyone in the body reads the roadmap; program managers plan it (roadmap versions,
initiatives, milestones, re-baselining proposals); an initiative's owner reports on it. The
services `require()` these, and the API's `may_create`/`may_change` hooks, the page guards and
the home panel ask the same functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from governance.permissions import is_signed_in, require
from governance.roles import is_administrator

if TYPE_CHECKING:
    from roadmap.models import Initiative

MANAGE_ROADMAP = "roadmap.manage_roadmap"


def may_read_roadmap(user) -> bool:
    """Everyone in the body reads the roadmap: administrators, the people of member
    organizations, holders of a portal role or of a committee seat. An outsider sees nothing."""
    if not (is_signed_in(user) and user.is_active):
        return False
    if is_administrator(user) or user.organization_id:
        return True
    cached = getattr(user, "_roadmap_in_body", None)
    if cached is None:
        cached = user.groups.exists() or user.memberships.exists()
        user._roadmap_in_body = cached  # type: ignore[attr-defined]  # a cache for this request
    return cached


def may_plan(user) -> bool:
    """Program managers (and administrators) edit the roadmap."""
    return is_signed_in(user) and (is_administrator(user) or user.has_perm(MANAGE_ROADMAP))


def may_report(user, initiative: Initiative) -> bool:
    """Program managers file any initiative's reports; an owner files their own."""
    return may_plan(user) or bool(is_signed_in(user) and initiative.owner_id == user.pk)


def may_file_reports(user) -> bool:
    """Whether the person may file any report at all (which initiative is checked once named)."""
    return may_plan(user) or (is_signed_in(user) and user.owned_initiatives.exists())


def require_planner(actor) -> None:
    """Refuse (403) unless the actor plans the roadmap; a scheduled task (no actor) may."""
    require(actor is None or may_plan(actor), "Only program managers edit the roadmap.")
