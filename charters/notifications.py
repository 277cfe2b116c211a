"""Emails the charters app sends. Called from Celery tasks, never inside a request."""

from __future__ import annotations

from charters.choices import CHARTER_TRANSITIONS
from charters.models import Charter
from governance import digests
from governance.choices import Role
from governance.models import Membership


def send_status_changed(charter_id: int, step: str) -> int:
    """Tell the author that their charter moved (and the committee's secretary that one was
    submitted). Returns how many emails went out."""
    charter = Charter.objects.select_related("created_by", "committee").filter(pk=charter_id).first()
    if charter is None or step not in CHARTER_TRANSITIONS:
        return 0
    recipients = {charter.created_by}
    if step == "submit":
        recipients |= {
            m.user
            for m in Membership.objects.active()
            .filter(committee=charter.committee, role=Role.SECRETARY)
            .select_related("user")
        }
    status = charter.get_status_display().lower()
    reason = f"\n\nReason given: {charter.status_reason}" if charter.status_reason else ""
    sent = 0
    for person in sorted(recipients, key=lambda p: p.pk):
        if not person.is_active or not person.email:
            continue
        # A charter's change of status has no deadline: it waits for the digest of a person
        # who chose one (governance.digests), and counts as sent to them.
        message = digests.deliver(
            person,
            f"Charter “{charter.title}” is now {status}",
            (
                f"Hello {person.get_full_name() or person.username},\n\n"
                f"The charter “{charter.title}” is now {status} "
                f"({CHARTER_TRANSITIONS[step].label.lower()}).{reason}\n"
            ),
            deadline=False,
        )
        if message is not None:
            message.send()
        sent += 1
    return sent
