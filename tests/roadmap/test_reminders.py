"""Reminders to owners before a progress report is due: claimed once, emailed after commit."""

import datetime

from django.conf import settings
from django.core import mail
from django.test import SimpleTestCase

from governance.models import OutboxTask
from roadmap import planning, tasks
from roadmap.models import ReportReminder
from roadmap.services import initiatives, reports, roadmaps
from tests.roadmap.support import RoadmapTestCase, days


class ReportDueTests(SimpleTestCase):
    def due(self, today, reported=(), starts_on=datetime.date(2025, 1, 1), cadence="quarterly"):
        return planning.next_report_due(
            cadence=cadence, starts_on=starts_on, reported=set(reported), today=today, due_days=10
        )

    def test_the_last_quarter_is_owed_until_reported(self):
        due = self.due(datetime.date(2026, 4, 5))
        self.assertEqual((due.period.label, due.due_on, due.overdue), ("2026 Q1", datetime.date(2026, 4, 10), False))
        self.assertTrue(self.due(datetime.date(2026, 4, 11)).overdue)

    def test_once_the_last_quarter_is_reported_the_current_one_is_next(self):
        due = self.due(datetime.date(2026, 4, 5), reported=[datetime.date(2026, 1, 1)])
        self.assertEqual((due.period.label, due.due_on), ("2026 Q2", datetime.date(2026, 7, 10)))

    def test_monthly_periods_are_calendar_months(self):
        due = self.due(datetime.date(2026, 3, 2), cadence="monthly")
        self.assertEqual((due.period.label, due.due_on), ("February 2026", datetime.date(2026, 3, 10)))

    def test_nothing_is_owed_for_periods_before_the_initiative_started(self):
        due = self.due(datetime.date(2026, 4, 5), starts_on=datetime.date(2026, 4, 1))
        self.assertEqual(due.period.label, "2026 Q2")
        self.assertIsNone(
            self.due(
                datetime.date(2026, 4, 5), reported=[datetime.date(2026, 4, 1)], starts_on=datetime.date(2026, 4, 1)
            )
        )


class ReminderTests(RoadmapTestCase):
    def setUp(self):
        self.approve()
        # The quarter under way is reported on after it ends; the reminder goes out within
        # ROADMAP_REPORT_REMINDER_DAYS of the due date, which is after the quarter's end.
        self.period = planning.period_containing(days(0), "quarterly")
        self.due_on = self.period.end + datetime.timedelta(days=settings.ROADMAP_REPORT_DUE_DAYS)
        self.reminder_day = self.due_on - datetime.timedelta(days=settings.ROADMAP_REPORT_REMINDER_DAYS)

    def test_each_owner_is_reminded_once_and_the_email_goes_after_commit(self):
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            claimed = reports.send_report_reminders(self.reminder_day)
        self.assertEqual({r.recipient for r in claimed}, {self.staff, self.private_staff})
        self.assertEqual({r.due_on for r in claimed}, {self.due_on})
        self.assertEqual(len(callbacks), 2, "one email task per reminder, sent on commit")
        queued = OutboxTask.objects.filter(task="roadmap.tasks.email_report_reminder")
        self.assertEqual(sorted(queued.values_list("args", flat=True)), sorted([[r.pk] for r in claimed]))
        self.assertEqual(len(mail.outbox), 0)

        reminder = ReportReminder.objects.get(initiative=self.model_initiative)
        self.assertTrue(tasks.email_report_reminder(reminder.pk))
        self.assertFalse(tasks.email_report_reminder(reminder.pk), "a second run sends nothing")
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, [self.staff.email])
        self.assertIn(f"The {self.period.label} progress report", mail.outbox[0].body)
        self.assertIn(f"/roadmap/initiatives/{self.model_initiative.pk}/reports/new/", mail.outbox[0].body)

        with self.captureOnCommitCallbacks(execute=False) as again:
            self.assertEqual(reports.send_report_reminders(self.reminder_day), [])
        self.assertEqual(again, [])

    def test_no_reminder_once_the_report_is_filed(self):
        reports.submit_report(
            self.staff, initiative=self.model_initiative, period_start=self.period.start, rag="amber", summary="Done"
        )
        with self.captureOnCommitCallbacks(execute=False):
            claimed = reports.send_report_reminders(self.reminder_day)
        self.assertEqual([r.initiative for r in claimed], [self.health_initiative])

    def test_no_reminder_before_the_window_opens(self):
        with self.captureOnCommitCallbacks(execute=False):
            self.assertEqual(reports.send_report_reminders(self.reminder_day - datetime.timedelta(days=1)), [])

    def test_initiatives_of_a_draft_roadmap_are_not_chased(self):
        draft = roadmaps.draft_next_version(self.program_manager, self.roadmap)
        extra = initiatives.create_initiative(
            self.program_manager,
            title="Draft-only",
            national_impact_score=2,
            starts_on=days(-200),
            owner=self.public_member,
            roadmap=draft,
        )
        with self.captureOnCommitCallbacks(execute=False):
            claimed = reports.send_report_reminders(self.reminder_day)
        self.assertNotIn(extra, [r.initiative for r in claimed])

    def test_the_reminder_email_is_sent_when_the_transaction_commits(self):
        with self.captureOnCommitCallbacks(execute=True):
            reports.send_report_reminders(self.reminder_day)
        self.assertEqual(sorted(m.to[0] for m in mail.outbox), sorted([self.staff.email, self.private_staff.email]))
        self.assertEqual(ReportReminder.objects.filter(sent_at__isnull=True).count(), 0)

    def test_beat_runs_the_reminders_hourly(self):
        entry = settings.CELERY_BEAT_SCHEDULE["roadmap-report-reminders"]
        self.assertEqual(entry["task"], "roadmap.tasks.send_report_reminders")
        self.assertEqual(tasks.send_report_reminders.name, "roadmap.tasks.send_report_reminders")
