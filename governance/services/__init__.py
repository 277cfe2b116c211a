"""The write path of the governance app: every change to the body goes through here.

- governance.services.people: users, roles, organizations and committees;
- governance.services.seats: seats, set up by administrators, then changed by the co-chairs' consent;
- governance.services.ballots: preparing, opening and closing ballots (DESIGN.md 2.1);
- governance.services.voting: votes and declared conflicts;
- governance.services.meetings: meetings, agendas, attendance and minutes (and their PDF);
- governance.services.invitations: meeting invitations' replies and each person's meeting feed;
- governance.services.sops: standard operating procedures and their versions.

Each function validates, writes, audits and notifies in one transaction. Views, the API, the
admin, tasks and the other apps call them as `governance.services.<name>`.
"""

from governance.services.ballots import (
    BALLOT_FIELDS,
    close_ballot,
    close_due_ballots,
    close_message,
    co_chairs,
    create_ballot,
    open_ballot,
    start_second_ballot,
    update_ballot,
)
from governance.services.meetings import (
    add_agenda_item,
    approve_minutes,
    archive_minutes_pdf,
    draft_minutes,
    record_attendance,
    schedule_meeting,
    set_meeting_status,
    update_meeting,
)
from governance.services.people import (
    COMMITTEE_FIELDS,
    MEMBERSHIP_GROUPS,
    ORGANIZATION_FIELDS,
    ROLE_GROUPS,
    USER_FIELDS,
    create_committee,
    create_organization,
    create_user,
    grant_role,
    revoke_role,
    set_signatories,
    sync_committee_roles,
    update_committee,
    update_organization,
    update_user,
)
from governance.services.seats import (
    MEMBERSHIP_FIELDS,
    add_membership,
    consent_to_membership_change,
    end_membership,
    mark_constituted,
    propose_membership_change,
    update_membership,
    withdraw_membership_change,
)
from governance.services.sops import (
    create_sop,
    draft_sop_version,
    put_sop_version_to_ballot,
    update_sop_version,
)
from governance.services.substitutes import name_substitute, withdraw_substitution
from governance.services.voting import cast_vote, declare_conflict, remind_voters
from governance.tally import compute_tally

__all__ = [
    "name_substitute",
    "withdraw_substitution",
    "update_sop_version",
    "put_sop_version_to_ballot",
    "draft_sop_version",
    "create_sop",
    "update_meeting",
    "set_meeting_status",
    "schedule_meeting",
    "record_attendance",
    "draft_minutes",
    "approve_minutes",
    "archive_minutes_pdf",
    "add_agenda_item",
    "BALLOT_FIELDS",
    "COMMITTEE_FIELDS",
    "MEMBERSHIP_FIELDS",
    "MEMBERSHIP_GROUPS",
    "ORGANIZATION_FIELDS",
    "ROLE_GROUPS",
    "USER_FIELDS",
    "add_membership",
    "cast_vote",
    "close_ballot",
    "close_message",
    "close_due_ballots",
    "co_chairs",
    "compute_tally",
    "create_ballot",
    "create_committee",
    "create_organization",
    "create_user",
    "declare_conflict",
    "remind_voters",
    "end_membership",
    "grant_role",
    "open_ballot",
    "revoke_role",
    "set_signatories",
    "start_second_ballot",
    "sync_committee_roles",
    "update_ballot",
    "update_committee",
    "update_membership",
    "update_organization",
    "update_user",
    "consent_to_membership_change",
    "mark_constituted",
    "propose_membership_change",
    "withdraw_membership_change",
]
