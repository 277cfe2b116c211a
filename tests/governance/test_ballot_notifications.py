"""Ballot notifications: email through Celery tasks enqueued when the transaction commits."""

from __future__ import annotations

import datetime

from django.core import mail
from django.test import override_settings
from django.utils import timezone

from governance import notifications, services, tasks
from governance.choices import VotingMethod
from governance.exceptions import DomainError
from governance.models import Ballot
from tests.governance.ballot_support import BallotTestCase


def tasks_run_in_process():
    """Run enqueued tasks at once in this process (the worker's code path, without a broker).
    Celery reads its CELERY_* settings from Django's live settings, so this takes effect."""
    return override_settings(CELERY_TASK_ALWAYS_EAGER=True)


def recipients(messages) -> set[str]:
    return {address for message in messages for address in message.to}


class BallotNotificationTests(BallotTestCase):
    def test_opening_a_ballot_emails_each_voter_once_the_opening_commits(self):
        ballot = self.motion(opened=False)
        services.declare_conflict(self.private_member, ballot, "Helios bids.")
        with tasks_run_in_process(), self.captureOnCommitCallbacks(execute=True) as callbacks:
            services.open_ballot(self.public_chair, ballot)
            self.assertEqual(mail.outbox, [], "nothing is sent before the commit")
        self.assertEqual(len(callbacks), 1)
        self.assertEqual(
            recipients(mail.outbox),
            {"ana@example.org", "ben@example.org", "carla@example.org", "erik@example.org"},
        )
        to_erik = next(m for m in mail.outbox if m.to == ["erik@example.org"])
        self.assertEqual(to_erik.subject, "[TGB] Ballot open: Adopt the meeting calendar")
        self.assertIn("You are recused from this ballot: Helios bids.", to_erik.body)
        to_carla = next(m for m in mail.outbox if m.to == ["carla@example.org"])
        self.assertIn(f"/ballots/{ballot.pk}/", to_carla.body)

    def test_a_refused_opening_enqueues_nothing(self):
        ballot = self.motion(opened=False)
        self.seat("pat", self.orgs.council)
        with self.captureOnCommitCallbacks() as callbacks, self.assertRaises(DomainError):
            services.open_ballot(self.public_chair, ballot)
        self.assertEqual(callbacks, [])

    def test_a_notification_task_run_twice_sends_once(self):
        ballot = self.motion()
        self.assertEqual(tasks.notify_ballot_opened(ballot.pk), 4)
        self.assertEqual(tasks.notify_ballot_opened(ballot.pk), 0)
        self.assertEqual(len(mail.outbox), 4)

    def test_the_reminder_goes_24_hours_before_closing_to_those_who_have_not_voted(self):
        soon = self.motion("Soon", closes_at=timezone.now() + datetime.timedelta(hours=20))
        later = self.motion("Later", closes_at=timezone.now() + datetime.timedelta(days=3))
        services.cast_vote(self.public_chair, soon, "yes")
        services.declare_conflict(self.private_member, soon, "Conflict.")
        with tasks_run_in_process():
            self.assertEqual(tasks.send_ballot_reminders(), 1)
            self.assertEqual(tasks.send_ballot_reminders(), 0)
        self.assertEqual(recipients(mail.outbox), {"ben@example.org", "carla@example.org"})
        self.assertTrue(all(m.subject.startswith("[TGB] Reminder: vote on Soon") for m in mail.outbox))
        self.assertIsNone(Ballot.objects.get(pk=later.pk).reminder_sent_at)
        self.assertEqual(
            notifications.ballots_needing_reminders(timezone.now() + datetime.timedelta(days=2, hours=12)), [later.pk]
        )

    def test_the_result_goes_to_the_roll_and_the_secretary(self):
        ballot = self.motion()
        self.votes(ballot, public_chair="yes", public_member="yes", private_chair="yes", private_member="no")
        with tasks_run_in_process(), self.captureOnCommitCallbacks(execute=True):
            self.close(ballot)
        self.assertEqual(
            recipients(mail.outbox),
            {"ana@example.org", "ben@example.org", "carla@example.org", "erik@example.org", "grace@example.org"},
        )
        message = mail.outbox[0]
        self.assertEqual(message.subject, "[TGB] Result: Adopt the meeting calendar — Passed")
        self.assertIn("Private sector: 1 yes, 1 no, 0 abstain of 2 eligible (0 recused); support 50 %", message.body)

    def test_a_deadlock_is_flagged_to_both_co_chairs(self):
        ballot = self.motion(method=VotingMethod.DOUBLE_MAJORITY)
        self.votes(ballot, public_chair="yes", public_member="yes", private_chair="no", private_member="no")
        with tasks_run_in_process(), self.captureOnCommitCallbacks(execute=True):
            self.close(ballot)
        flags = [m for m in mail.outbox if m.subject.startswith("[TGB] Deadlock")]
        self.assertEqual(recipients(flags), {"ana@example.org", "ben@example.org"})
        self.assertIn("conflict-resolution procedure", flags[0].body)

    def test_the_beat_task_closes_due_ballots(self):
        ballot = self.motion(closes_at=timezone.now() + datetime.timedelta(hours=2))
        self.votes(ballot, public_chair="yes", private_chair="yes")
        Ballot.objects.filter(pk=ballot.pk).update(closes_at=timezone.now() - datetime.timedelta(seconds=1))
        with self.captureOnCommitCallbacks() as callbacks:
            self.assertEqual(tasks.close_due_ballots(), 1)
        self.assertEqual(len(callbacks), 1, "the result notification is enqueued on commit")
        self.assertEqual(Ballot.objects.get(pk=ballot.pk).outcome, "passed")
        self.assertEqual(tasks.close_due_ballots(), 0)
