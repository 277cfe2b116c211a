"""Emails the charters app sends. Called from Celery tasks, never inside a request."""

from __future__ import annotations

from django.conf import settings

from charters.choices import CHARTER_TRANSITIONS
from charters.models import Charter, CharterStepConsent
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


def send_step_consent(consent_id: int) -> int:
    """Email the co-chairs of the other sectors that a step on the charter waits for them."""
    consent = CharterStepConsent.objects.select_related("charter__committee", "given_by").filter(pk=consent_id).first()
    if consent is None or consent.closed_at is not None:
        return 0
    charter = consent.charter
    label = CHARTER_TRANSITIONS[consent.step].label.lower()
    chairs = (
        Membership.objects.active()
        .filter(committee=charter.committee, role=Role.CHAIR)
        .exclude(organization__sector=consent.sector)
        .select_related("user")
    )
    sent = 0
    for seat in chairs:
        person = seat.user
        if not person.is_active or not person.email:
            continue
        # A decision waiting for them: sent at once, whatever their digest choice.
        message = digests.deliver(
            person,
            f"Asked to {label} the charter “{charter.title}”: your consent is needed",
            (
                f"Hello {person.get_full_name() or person.username},\n\n"
                f"{consent.given_by.get_full_name() or consent.given_by.username} asks to {label} the charter "
                f"“{charter.title}”. It happens only once the co-chair of every sector asks for it.\n\n"
                f"Reason given: {consent.reason or '(none)'}\n\n"
                f"{settings.SITE_URL}/charters/{charter.pk}/\n"
            ),
            deadline=True,
        )
        if message is not None:
            message.send()
        sent += 1
    return sent
