"""Digests (issue 19): each person chooses immediate, daily or weekly e-mail; deadlines always go
at once; the rest waits for one digest per period listing what changed and what awaits them."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.test import TransactionTestCase
from django.utils import timezone

from governance import digests, notifications, services
from governance.choices import NotificationDelivery
from governance.models import Digest, DigestItem, User
from tests.base import make_body
from tests.governance.ballot_support import FAST_HASHING, BallotTestCase
from tests.support.races import together

TOMORROW = datetime.timedelta(days=1, hours=1)


def choose(user: User, delivery: str) -> User:
    return services.update_user(user, user, notification_delivery=delivery)


class ChoosingTheDeliveryTests(BallotTestCase):
    def test_a_person_chooses_on_their_account_page(self):
        self.client.force_login(self.public_member)
        page = self.client.get("/account/")
        self.assertContains(page, "How the portal")
        response = self.client.post("/account/delivery/", {"notification_delivery": "weekly"})
        self.assertRedirects(response, "/account/")
        self.public_member.refresh_from_db()
        self.assertEqual(self.public_member.notification_delivery, NotificationDelivery.WEEKLY)
        bad = self.client.post("/account/delivery/", {"notification_delivery": "hourly"})
        self.assertEqual(bad.status_code, 200)
        self.assertContains(bad, "Select a valid choice")

    def test_a_person_chooses_over_the_api_for_their_own_profile_only(self):
        response = self.api(self.public_member).patch(
            f"/api/users/{self.public_member.pk}/", {"notification_delivery": "daily"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["notification_delivery"], "daily")
        # Nobody else chooses for them, an administrator included, and nobody else sees it.
        other = self.api(self.admin).patch(
            f"/api/users/{self.public_member.pk}/", {"notification_delivery": "weekly"}, format="json"
        )
        self.assertEqual(other.status_code, 403)
        self.assertNotIn(
            "notification_delivery", self.api(self.private_member).get(f"/api/users/{self.public_member.pk}/").json()
        )
        bad = self.api(self.public_member).patch(
            f"/api/users/{self.public_member.pk}/", {"notification_delivery": "hourly"}, format="json"
        )
        self.assertEqual(bad.status_code, 400)
        self.public_member.refresh_from_db()
        self.assertEqual(self.public_member.notification_delivery, "daily")


class ImmediateAndDigestedTests(BallotTestCase):
    def closed_ballot(self):
        ballot = self.motion()
        self.votes(ballot, public_chair="yes", public_member="yes", private_chair="yes", private_member="yes")
        return self.close(ballot)

    def test_a_result_waits_for_the_digest_of_those_who_chose_one_but_not_for_the_others(self):
        choose(self.public_member, NotificationDelivery.DAILY)
        ballot = self.closed_ballot()
        mail.outbox.clear()
        Ballot = type(ballot)
        Ballot.objects.filter(pk=ballot.pk).update(result_notice_at=None)
        notifications.send_ballot_result(ballot.pk)
        told = {address for message in mail.outbox for address in message.to}
        self.assertIn(self.private_member.email, told)
        self.assertNotIn(self.public_member.email, told)
        item = DigestItem.objects.get(user=self.public_member)
        self.assertIn(ballot.title, item.subject)

    def test_deadlines_always_go_at_once(self):
        choose(self.public_member, NotificationDelivery.WEEKLY)
        ballot = self.motion(opened=False)
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            services.open_ballot(self.public_chair, ballot)
        self.assertIn(self.public_member.email, {a for m in mail.outbox for a in m.to})
        self.assertFalse(DigestItem.objects.filter(user=self.public_member).exists())

    def test_a_charters_change_of_status_waits_for_its_authors_digest(self):
        from charters.notifications import send_status_changed

        charter = self.charter(self.orgs.council)
        mail.outbox.clear()
        self.assertEqual(send_status_changed(charter.pk, "submit"), 2)  # Sam, the author; Grace, the secretary
        self.assertEqual(sorted(a for m in mail.outbox for a in m.to), [self.secretary.email, self.staff.email])
        choose(self.staff, NotificationDelivery.WEEKLY)
        mail.outbox.clear()
        send_status_changed(charter.pk, "submit")
        self.assertEqual([m.to for m in mail.outbox], [[self.secretary.email]])
        self.assertIn("Shared speech corpus", DigestItem.objects.get(user=self.staff).subject)

    def test_one_digest_per_period_lists_what_changed_and_what_awaits(self):
        choose(self.public_member, NotificationDelivery.DAILY)
        self.closed_ballot()
        waiting = self.motion("Adopt the travel policy")  # open, Carla has not voted
        Ballot = type(waiting)
        for ballot in Ballot.objects.filter(status="closed"):
            Ballot.objects.filter(pk=ballot.pk).update(result_notice_at=None)
            notifications.send_ballot_result(ballot.pk)
        mail.outbox.clear()
        # Not before the day is over: the period is still running.
        self.assertEqual(digests.send_digest(self.public_member.pk), 0)
        later = timezone.now() + TOMORROW
        self.assertIn(self.public_member.pk, digests.users_with_due_digests(later))
        self.assertEqual(digests.send_digest(self.public_member.pk, later), 1)
        [message] = mail.outbox
        self.assertEqual(message.to, [self.public_member.email])
        self.assertIn("daily digest", message.subject)
        self.assertIn("Result: Adopt the meeting calendar", message.body)
        self.assertIn("What awaits you", message.body)
        self.assertIn("Vote: Adopt the travel policy", message.body)
        # Once per period.
        self.assertEqual(digests.send_digest(self.public_member.pk, later), 0)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(Digest.objects.get(user=self.public_member).item_count, 1)
        self.assertNotIn(self.public_member.pk, digests.users_with_due_digests(later))

    def test_nothing_is_sent_when_nothing_happened(self):
        choose(self.public_member, NotificationDelivery.WEEKLY)
        self.motion("Something awaits, but nothing changed")
        mail.outbox.clear()
        later = timezone.now() + datetime.timedelta(days=8)
        self.assertEqual(digests.users_with_due_digests(later), [])
        self.assertEqual(digests.send_digest(self.public_member.pk, later), 0)
        self.assertEqual(mail.outbox, [])
        self.assertFalse(Digest.objects.exists())

    def test_a_weekly_digest_waits_for_the_week_to_end(self):
        choose(self.public_member, NotificationDelivery.WEEKLY)
        DigestItem.objects.create(user=self.public_member, subject="A charter moved", body="It is now approved.\n")
        now = timezone.localtime()
        next_monday = (now + datetime.timedelta(days=7 - now.weekday())).replace(hour=1, minute=0)
        self.assertEqual(digests.send_digest(self.public_member.pk, now), 0)
        self.assertEqual(digests.send_digest(self.public_member.pk, next_monday), 1)
        self.assertIn("weekly digest", mail.outbox[-1].subject)

    def test_the_beat_sends_due_digests(self):
        self.assertEqual(settings.CELERY_BEAT_SCHEDULE["send-due-digests"]["task"], "governance.tasks.send_due_digests")
        from governance import tasks

        choose(self.public_member, NotificationDelivery.DAILY)
        item = DigestItem.objects.create(user=self.public_member, subject="A charter moved", body="Approved.\n")
        DigestItem.objects.filter(pk=item.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
        mail.outbox.clear()
        self.assertEqual(tasks.send_due_digests.apply().get(), 1)
        self.assertEqual([m.to for m in mail.outbox], [[self.public_member.email]])
        self.assertEqual(tasks.send_due_digests.apply().get(), 0)


@pytest.mark.postgres
@FAST_HASHING
class ConcurrentDigestTests(TransactionTestCase):
    def setUp(self):
        self.body = make_body()
        self.member = self.body.public_member
        choose(self.member, NotificationDelivery.DAILY)

    def test_two_senders_at_once_send_one_digest(self):
        for round_ in range(3):
            DigestItem.objects.create(user=self.member, subject=f"Update {round_}", body="Something changed.\n")
            mail.outbox.clear()
            when = timezone.now() + datetime.timedelta(days=round_ + 1, hours=1)
            results = together(
                lambda w=when: digests.send_digest(self.member.pk, w),
                lambda w=when: digests.send_digest(self.member.pk, w),
            )
            self.assertEqual(sorted(results), [0, 1], results)
            self.assertEqual(len(mail.outbox), 1)
            self.assertEqual(Digest.objects.filter(user=self.member).count(), round_ + 1)
