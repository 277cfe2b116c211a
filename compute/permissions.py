"""Who may do what in the compute app: one function per act, named by the act.

The services `require()` these; the API's may_create/may_change and the page guards ask the
same functions, so a page, the API and a service never answer differently. A service called
by the system itself (actor None: a task, the demo seeder) decides that before asking.
"""

from __future__ import annotations

from governance.choices import PortalRole
from governance.permissions import can_manage_committee, is_co_chair, is_signed_in, manages_any_committee
from governance.roles import is_administrator

# --- People facts --------------------------------------------------------------------------


def is_charter_lead(user, charter) -> bool:
    """People of a charter's lead organization speak for it (consent to transfers…)."""
    return bool(user and user.is_authenticated and user.organization_id == charter.lead_organization_id)


# --- Resources, pools, metric sources ----------------------------------------------------


def may_manage_resources(user) -> bool:
    """Register and change shared resources and their credit rates: administrators."""
    return is_administrator(user)


def may_map_accounting(user) -> bool:
    """Map accounting systems' names (Slurm accounts, partitions, clusters) onto charters and
    resources: administrators, as they register the resources and the metric sources."""
    return is_administrator(user)


def may_create_pools(user) -> bool:
    """Open a pool for some committee: administrators, and anyone who manages a committee
    (which committee is checked by the service once the input names it)."""
    return manages_any_committee(user)


def may_manage_pools(user, committee) -> bool:
    """Open and change this committee's pools: administrators, its co-chairs and secretary."""
    return can_manage_committee(user, committee)


def may_propose_reversal(user) -> bool:
    """Propose that a ledger transaction be reversed: administrators (the proposal moves
    nothing; the committee's co-chairs decide)."""
    return is_administrator(user)


def may_decide_reversal(user, proposal) -> bool:
    """Approve or turn down a reversal: the co-chairs of the committee holding its accounts."""
    return is_co_chair(user, proposal.committee)


def committees_chaired_by(user):
    """The committees in which the person holds a co-chair seat today (a queryset of ids)."""
    from governance.choices import Role
    from governance.models import Membership

    return Membership.objects.active().filter(user=user, role=Role.CHAIR).values("committee_id")


def may_manage_metric_sources(user) -> bool:
    """Register and change metric sources, and rotate their tokens: administrators."""
    return is_administrator(user)


def may_see_all_credits(user) -> bool:
    """See every account and the whole ledger: administrators, auditors and the committee
    (those granted compute.view_creditaccount)."""
    return is_administrator(user) or user.has_perm("compute.view_creditaccount")


def may_submit_reports(user) -> bool:
    """Submit security scan reports and set up watched report directories."""
    return bool(
        user and user.is_authenticated and (is_administrator(user) or user.has_perm("compute.add_securityscan"))
    )


def may_read_findings(user) -> bool:
    """Failed rules and CVE ids are a map for an attacker: administrators, auditors and those
    granted compute.view_securityscan read them."""
    if not (user and user.is_authenticated):
        return False
    return (
        is_administrator(user)
        or user.has_perm("compute.view_securityscan")
        or user.groups.filter(name=PortalRole.AUDITOR).exists()
    )


# --- Credit requests ---------------------------------------------------------------------


def may_request_credits_for(user, charter) -> bool:
    """Administrators, and people of the charter's lead or a participating organization."""
    if not is_signed_in(user):
        return False
    if is_administrator(user):
        return True
    return bool(user.organization_id) and (
        user.organization_id == charter.lead_organization_id
        or charter.participating_organizations.filter(pk=user.organization_id).exists()
    )


def may_change_request(user, request) -> bool:
    """Change, submit or withdraw a request: its requester, or an administrator."""
    return request.requested_by_id == user.pk or is_administrator(user)


def may_decide_requests(user, committee) -> bool:
    """Sign or reject credit requests at or below the dual-control limit: the committee's
    co-chairs (administrators are not co-chairs)."""
    return is_co_chair(user, committee)


# --- Transfers and refunds ---------------------------------------------------------------


def transfer_sides(user, transfer) -> set[str]:
    """The sides of a transfer ("source", "target") the person speaks for as a charter's lead."""
    sides = set()
    if is_charter_lead(user, transfer.source.charter):
        sides.add("source")
    if is_charter_lead(user, transfer.target.charter):
        sides.add("target")
    return sides


def may_consent_to_transfer(user, transfer) -> bool:
    """Propose, consent to or decline a transfer: the lead of one of the two charters."""
    return bool(transfer_sides(user, transfer))


def may_request_refund(user, account) -> bool:
    """Ask for a refund to a charter's account: its organizations and the committee's co-chairs."""
    return may_request_credits_for(user, account.charter) or is_co_chair(user, account.charter.committee)


def may_decide_refund(user, refund) -> bool:
    """Approve or reject a refund: the co-chairs of the charter's committee."""
    return is_co_chair(user, refund.account.charter.committee)
