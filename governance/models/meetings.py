"""Meetings of a committee: the agenda (whose items can carry ballots), attendance, minutes."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from governance.choices import ATTENDING, AttendanceStatus, MeetingStatus, MinutesStatus, Role, Rsvp, Sector
from governance.models.base import TimeStampedModel


class MeetingQuerySet(models.QuerySet):
    def published(self) -> MeetingQuerySet:
        """Meetings whose minutes have been approved: the public view names a decision's meeting
        and links its minutes only then (a draft of the minutes is never public)."""
        return self.filter(minutes__status=MinutesStatus.APPROVED)

    def invited(self, user) -> MeetingQuerySet:
        """The meetings a person is on the roll of (and so was invited to)."""
        if not (user and user.is_authenticated):
            return self.none()
        return self.filter(attendance__user=user)

    def visible_to(self, user) -> MeetingQuerySet:
        """The committee's meetings and their minutes are part of the record for every
        signed-in user; drafts of the minutes are shown only to those who may edit them
        (decided in the views)."""
        if not (user and user.is_authenticated):
            return self.none()
        return self


class Meeting(TimeStampedModel):
    """A sitting of a committee."""

    committee = models.ForeignKey("governance.Committee", on_delete=models.PROTECT, related_name="meetings")
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    # The invitation's iCalendar SEQUENCE: 0 when scheduled, one more at each move or the
    # cancellation. `invited_sequence` is the last one mailed, so each is sent once.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    invited_sequence = models.IntegerField(default=-1, editable=False)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MeetingStatus.values),
                name="meeting_status_valid",
                violation_error_message="Unknown meeting status.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"

    def attendance_by_sector(self) -> list[dict]:
        """Per sector: voting members on the roll, and how many attended (in person or remote),
        were excused or absent. Sectors are listed alike, each with its own counts."""
        labels = dict(Sector.choices)
        counts = {
            sector: {"sector": sector, "label": labels[sector], "voting": 0, "attending": 0, "excused": 0, "absent": 0}
            for sector in Sector.values
        }
        for row in self.attendance.all():
            if not row.voting:
                continue
            sector = counts.setdefault(
                row.sector,
                {"sector": row.sector, "label": row.sector, "voting": 0, "attending": 0, "excused": 0, "absent": 0},
            )
            sector["voting"] += 1
            if row.status in ATTENDING:
                sector["attending"] += 1
            elif row.status == AttendanceStatus.EXCUSED:
                sector["excused"] += 1
            else:
                sector["absent"] += 1
        return list(counts.values())

    @property
    def minutes_approved(self) -> bool:
        minutes = getattr(self, "minutes", None)
        return bool(minutes and minutes.status == MinutesStatus.APPROVED)


class AgendaItem(models.Model):
    """One point of a meeting's agenda; it may carry a ballot the meeting decides."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="agenda_items")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    ballot = models.OneToOneField(
        "governance.Ballot", on_delete=models.PROTECT, null=True, blank=True, related_name="agenda_item"
    )

    class Meta:
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "position"],
                name="agendaitem_unique_position",
                violation_error_message="The agenda already has an item at this position.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class Attendance(models.Model):
    """Whether a member took part in a meeting, with the sector they sat for."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey("governance.Organization", on_delete=models.PROTECT, related_name="+")
    sector = models.CharField(max_length=20, choices=Sector.choices)
    role = models.CharField(max_length=20, choices=Role.choices)
    voting = models.BooleanField()
    status = models.CharField(max_length=16, choices=AttendanceStatus.choices, default=AttendanceStatus.ABSENT)
    rsvp = models.CharField(max_length=16, choices=Rsvp.choices, default=Rsvp.NEEDS_ACTION, editable=False)
    rsvp_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "attendance"
        ordering = ["meeting", "sector", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user"],
                name="attendance_one_per_member",
                violation_error_message="This member's attendance is already recorded.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AttendanceStatus.values),
                name="attendance_status_valid",
                violation_error_message="Unknown attendance status.",
            ),
            models.CheckConstraint(
                condition=Q(rsvp__in=Rsvp.values),
                name="attendance_rsvp_valid",
                violation_error_message="A reply is accepted, tentative, declined or none yet.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.meeting}: {self.status}"


class Minutes(TimeStampedModel):
    """The record of a meeting, drafted by the secretary. Approved minutes are frozen: the
    services refuse any change, and `digest` lets anyone check the text is the approved one."""

    meeting = models.OneToOneField(Meeting, on_delete=models.PROTECT, related_name="minutes")
    body = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=MinutesStatus.choices, default=MinutesStatus.DRAFT)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    digest = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the approved text.")
    pdf_sha256 = models.CharField(
        max_length=64, blank=True, editable=False, help_text="SHA-256 of the archived PDF of the approved minutes."
    )

    class Meta:
        verbose_name_plural = "minutes"
        constraints = [
            models.CheckConstraint(
                condition=Q(status=MinutesStatus.DRAFT) | (Q(approved_at__isnull=False) & ~Q(digest="")),
                name="minutes_approved_are_sealed",
                violation_error_message="Approved minutes carry their approval time and digest.",
            ),
        ]

    def __str__(self) -> str:
        return f"Minutes of {self.meeting}"


class MinutesPdf(models.Model):
    """The PDF of approved minutes, made once at approval and archived here byte for byte (a
    row rather than a file, so it travels with the database backups on SQLite and PostgreSQL
    alike). `Minutes.pdf_sha256` is its hash."""

    minutes = models.OneToOneField(Minutes, on_delete=models.PROTECT, related_name="pdf")
    content = models.BinaryField(editable=False)
    made_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "PDF of minutes"
        verbose_name_plural = "PDFs of minutes"

    def __str__(self) -> str:
        return f"PDF of {self.minutes}"


class MeetingFeed(models.Model):
    """A person's secret iCalendar feed of their meetings (beside the roadmap's milestone feed).
    Only a hash of the token is kept: the address is shown once, when it is issued."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meeting_feed")
    token_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token_hash"], name="meetingfeed_unique_token"),
        ]

    def __str__(self) -> str:
        return f"Meeting feed of {self.user}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
