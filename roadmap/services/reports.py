"""Progress reports on initiatives, and the reminders sent to owners when one falls due."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from governance.audit import record_event, snapshot
from governance.models import User
from governance.outbox import enqueue
from governance.permissions import require
from roadmap import permissions, planning, selectors
from roadmap.choices import (
    RoadmapStatus,
)
from roadmap.models import (
    Initiative,
    ProgressReport,
    ReportReminder,
)
from roadmap.services.fields import pick

REPORT_FIELDS = ["period_start", "rag", "summary", "risks", "issues", "next_steps"]


def _report_snapshot(report: ProgressReport) -> dict:
    return snapshot(report, ["initiative", *REPORT_FIELDS, "evidence_rag"])


@transaction.atomic
def submit_report(actor: User, *, initiative: Initiative, **fields: Any) -> ProgressReport:
    """File an initiative's report for a period; the evidence-based RAG of the moment is kept
    beside the reported one."""
    require(
        permissions.may_report(actor, initiative), "Only program managers and the initiative's owner file its reports."
    )
    report = ProgressReport(initiative=initiative, author=actor, **pick(fields, REPORT_FIELDS))
    found = selectors.initiative_evidence(initiative)
    report.evidence_rag, report.evidence_reasons = found.rag, found.reasons
    report.full_clean()
    report.save()
    record_event(actor, "progress_report.submitted", report, after=_report_snapshot(report))
    return report


@transaction.atomic
def update_report(actor: User, report: ProgressReport, **fields: Any) -> ProgressReport:
    """Correct a report; its initiative and period stay, and the evidence is taken again."""
    report = ProgressReport.objects.select_for_update().select_related("initiative").get(pk=report.pk)
    require(
        permissions.may_report(actor, report.initiative),
        "Only program managers and the initiative's owner file its reports.",
    )
    if "initiative" in fields and fields["initiative"].pk != report.initiative_id:
        raise ValidationError({"initiative": "A report stays with its initiative."})
    if "period_start" in fields and fields["period_start"] != report.period_start:
        raise ValidationError({"period_start": "A report stays with its period; file one for the other period."})
    before = _report_snapshot(report)
    for name, value in pick(fields, REPORT_FIELDS).items():
        setattr(report, name, value)
    found = selectors.initiative_evidence(report.initiative)
    report.evidence_rag, report.evidence_reasons = found.rag, found.reasons
    report.full_clean()
    report.save()
    record_event(actor, "progress_report.updated", report, before=before, after=_report_snapshot(report))
    return report


@transaction.atomic
def send_report_reminders(today: datetime.date | None = None) -> list[ReportReminder]:
    """Remind each owner, once per period, when a report of an initiative of the approved
    roadmap falls due within ROADMAP_REPORT_REMINDER_DAYS. The email goes after commit."""
    today = today or timezone.localdate()
    window = settings.ROADMAP_REPORT_REMINDER_DAYS
    initiatives = (
        Initiative.objects.filter(roadmaps__status=RoadmapStatus.APPROVED, owner__isnull=False)
        .distinct()
        .prefetch_related(Prefetch("reports", queryset=ProgressReport.objects.only("initiative_id", "period_start")))
    )
    claimed = []
    for initiative in initiatives:
        due = selectors.report_due(initiative, today)
        if due is None or due.overdue or due.days_left > window:
            continue
        reminder, created = ReportReminder.objects.get_or_create(
            initiative=initiative,
            period_start=due.period.start,
            defaults={"due_on": due.due_on, "recipient_id": initiative.owner_id},
        )
        if created:
            claimed.append(reminder)
            enqueue("roadmap.tasks.email_report_reminder", reminder.pk)
    return claimed


def email_report_reminder(reminder_id: int) -> bool:
    """Send one claimed reminder; a second run sends nothing. False when already sent."""
    with transaction.atomic():
        claimed = ReportReminder.objects.filter(pk=reminder_id, sent_at__isnull=True).update(sent_at=timezone.now())
        if not claimed:
            return False
        reminder = ReportReminder.objects.select_related("initiative", "recipient").get(pk=reminder_id)
        period = planning.period_containing(reminder.period_start, reminder.initiative.report_cadence)
        path = reverse("roadmap:report-create", args=[reminder.initiative_id])
        # If sending fails the claim rolls back with it, and the task's retry sends it again.
        send_mail(
            subject=f"Progress report due {reminder.due_on:%d %B %Y}: {reminder.initiative}",
            message=(
                f"Hello {reminder.recipient},\n\n"
                f"The {period.label} progress report of '{reminder.initiative}' is due on "
                f"{reminder.due_on:%A %d %B %Y}.\n\nFile it at {settings.SITE_URL.rstrip('/')}{path}\n\n"
                "The portal shows its own evidence-based RAG beside the one you report.\n"
            ),
            from_email=None,
            recipient_list=[reminder.recipient.email],
        )
    return True
