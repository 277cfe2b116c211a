"""The write path of the governance app: every change to the body goes through here.

- governance.services.people: users, roles, organizations, committees and seats;
- governance.services.ballots: ballots, votes, recusals and closing (DESIGN.md 2.1).

Each function validates, writes, audits and notifies in one transaction. Views, the API, the
admin, tasks and the other apps call them as `governance.services.<name>`.
"""

from governance.services.ballots import (
    BALLOT_FIELDS,
    can_prepare_ballots,
    can_run_ballots,
    cast_vote,
    close_ballot,
    close_due_ballots,
    co_chairs,
    create_ballot,
    declare_conflict,
    is_co_chair,
    open_ballot,
    start_second_ballot,
    update_ballot,
)
from governance.services.people import (
    COMMITTEE_FIELDS,
    MANAGE_COMMITTEE,
    MEMBERSHIP_FIELDS,
    MEMBERSHIP_GROUPS,
    ORGANIZATION_FIELDS,
    ROLE_GROUPS,
    USER_FIELDS,
    add_membership,
    can_manage_committee,
    create_committee,
    create_organization,
    create_user,
    end_membership,
    grant_role,
    require,
    revoke_role,
    sync_committee_roles,
    update_committee,
    update_membership,
    update_organization,
    update_user,
)
from governance.tally import compute_tally

__all__ = [
    "BALLOT_FIELDS",
    "COMMITTEE_FIELDS",
    "MANAGE_COMMITTEE",
    "MEMBERSHIP_FIELDS",
    "MEMBERSHIP_GROUPS",
    "ORGANIZATION_FIELDS",
    "ROLE_GROUPS",
    "USER_FIELDS",
    "add_membership",
    "can_manage_committee",
    "can_prepare_ballots",
    "can_run_ballots",
    "cast_vote",
    "close_ballot",
    "close_due_ballots",
    "co_chairs",
    "compute_tally",
    "create_ballot",
    "create_committee",
    "create_organization",
    "create_user",
    "declare_conflict",
    "end_membership",
    "grant_role",
    "is_co_chair",
    "open_ballot",
    "require",
    "revoke_role",
    "start_second_ballot",
    "sync_committee_roles",
    "update_ballot",
    "update_committee",
    "update_membership",
    "update_organization",
    "update_user",
]
