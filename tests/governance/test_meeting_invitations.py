"""Meeting invitations: iCalendar REQUEST/CANCEL mailed to the roll once per change, each
person's feed of their meetings, and the signed reply links."""

from __future__ import annotations

import datetime
import re

import icalendar
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from governance import services, tasks
from governance.choices import MeetingStatus, Rsvp
from governance.models import Attendance, AuditEvent
from governance.services import invitations
from tests.governance.ballot_support import BallotTestCase
from tests.governance.test_ballot_notifications import tasks_run_in_process

ROLL = {"ana@example.org", "ben@example.org", "carla@example.org", "erik@example.org", "grace@example.org"}


def calendar_of(message) -> icalendar.Calendar:
    """The text/calendar part of a message, parsed."""
    (part,) = [p for p in message.message().walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") in ("REQUEST", "CANCEL")
    return icalendar.Calendar.from_ical(part.get_payload(decode=True))


def event_of(calendar: icalendar.Calendar) -> icalendar.Event:
    (event,) = calendar.walk("VEVENT")
    return event


class InvitationTests(BallotTestCase):
    starts = datetime.datetime(2031, 3, 4, 9, 30, tzinfo=datetime.UTC)

    def schedule(self):
        with tasks_run_in_process(), self.captureOnCommitCallbacks(execute=True):
            return services.schedule_meeting(
                self.secretary,
                committee=self.committee,
                title="Spring meeting",
                starts_at=self.starts,
                location="Room 4",
            )

    def test_scheduling_mails_everyone_on_the_roll_an_icalendar_request(self):
        meeting = self.schedule()
        self.assertEqual({m.to[0] for m in mail.outbox}, ROLL)
        calendar = calendar_of(mail.outbox[0])
        self.assertEqual(calendar["method"], "REQUEST")
        event = event_of(calendar)
        self.assertEqual(str(event["uid"]), f"meeting-{meeting.pk}@tgb-portal")
        self.assertEqual(event["sequence"], 0)
        self.assertEqual(event.decoded("dtstart"), self.starts)
        self.assertEqual(event.decoded("dtend"), self.starts + datetime.timedelta(hours=2))
        self.assertEqual(event["dtstart"].to_ical(), b"20310304T093000Z", "times are written in UTC")
        self.assertEqual(str(event["location"]), "Room 4")
        self.assertTrue(str(event["url"]).endswith(f"/meetings/{meeting.pk}/"))
        self.assertTrue(str(event["organizer"]).startswith("mailto:"))
        attendees = event["attendee"]
        self.assertEqual({str(a).removeprefix("mailto:") for a in attendees}, ROLL)
        for attendee in attendees:
            self.assertEqual((attendee.params["PARTSTAT"], attendee.params["RSVP"]), ("NEEDS-ACTION", "TRUE"))
        body = mail.outbox[0].body
        self.assertEqual(len(re.findall(rf"/meetings/{meeting.pk}/reply/[^/\s]+/\?reply=", body)), 3)

    def test_a_move_sends_the_same_uid_one_sequence_higher_and_cancelling_sends_cancel(self):
        meeting = self.schedule()
        mail.outbox.clear()
        later = self.starts + datetime.timedelta(days=1)
        with tasks_run_in_process(), self.captureOnCommitCallbacks(execute=True):
            services.update_meeting(self.secretary, meeting, starts_at=later)
        moved = event_of(calendar_of(mail.outbox[0]))
        self.assertEqual((str(moved["uid"]), moved["sequence"]), (f"meeting-{meeting.pk}@tgb-portal", 1))
        self.assertEqual(moved.decoded("dtstart"), later)
        self.assertIn("Meeting moved", mail.outbox[0].subject)
        mail.outbox.clear()
        with tasks_run_in_process(), self.captureOnCommitCallbacks(execute=True):
            services.update_meeting(self.secretary, meeting, title="Spring meeting (renamed)")
        self.assertEqual(mail.outbox, [], "a new title alone does not move the meeting")
        with tasks_run_in_process(), self.captureOnCommitCallbacks(execute=True):
            services.set_meeting_status(self.secretary, meeting, MeetingStatus.CANCELLED)
        self.assertEqual(len(mail.outbox), len(ROLL))
        calendar = calendar_of(mail.outbox[0])
        self.assertEqual(calendar["method"], "CANCEL")
        cancelled = event_of(calendar)
        self.assertEqual((str(cancelled["uid"]), cancelled["sequence"]), (f"meeting-{meeting.pk}@tgb-portal", 2))
        self.assertEqual(str(cancelled["status"]), "CANCELLED")
        self.assertNotIn("/reply/", mail.outbox[0].body)

    def test_the_secretary_moves_a_meeting_from_its_page_and_the_roll_is_sent_the_move(self):
        meeting = self.schedule()
        mail.outbox.clear()
        self.client.force_login(self.public_member)
        self.assertEqual(self.client.get(f"/meetings/{meeting.pk}/edit/").status_code, 403)
        self.client.force_login(self.secretary)
        self.assertContains(self.client.get(f"/meetings/{meeting.pk}/"), "Move or rename")
        form = {"title": "Spring meeting", "starts_at": "2031-03-05T10:00", "location": "Room 4"}
        bad = self.client.post(f"/meetings/{meeting.pk}/edit/", {**form, "starts_at": "someday"})
        self.assertEqual(bad.status_code, 200)
        self.assertContains(bad, "Enter a valid date/time")
        with tasks_run_in_process(), self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(f"/meetings/{meeting.pk}/edit/", form, follow=True)
        self.assertContains(response, "everyone on its roll gets the updated invitation")
        self.assertEqual({m.to[0] for m in mail.outbox}, ROLL)
        self.assertEqual(event_of(calendar_of(mail.outbox[0]))["sequence"], 1)

    def test_the_task_run_twice_sends_once(self):
        meeting = services.schedule_meeting(
            self.secretary, committee=self.committee, title="Spring meeting", starts_at=self.starts
        )
        self.assertEqual(tasks.send_meeting_invitations(meeting.pk), len(ROLL))
        self.assertEqual(tasks.send_meeting_invitations(meeting.pk), 0)
        self.assertEqual(len(mail.outbox), len(ROLL))

    def test_a_meeting_recorded_after_the_fact_sends_no_invitation(self):
        with tasks_run_in_process(), self.captureOnCommitCallbacks(execute=True):
            services.schedule_meeting(
                self.secretary,
                committee=self.committee,
                title="Last week's meeting",
                starts_at=timezone.now() - datetime.timedelta(days=7),
            )
        self.assertEqual(mail.outbox, [])

    def test_the_person_feed_lists_their_meetings_with_the_invitations_uid(self):
        meeting = self.schedule()
        self.client.force_login(self.public_member)
        page = self.client.post("/meetings/calendar/", {"action": "issue"})
        self.assertEqual(page.status_code, 200)
        url = re.search(r'value="(http[^"]+\.ics)"', page.content.decode()).group(1)
        self.client.logout()
        response = self.client.get(url.removeprefix("http://testserver"))
        self.assertEqual(response["Content-Type"], "text/calendar; charset=utf-8")
        (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
        self.assertEqual((str(event["uid"]), event["sequence"]), (f"meeting-{meeting.pk}@tgb-portal", 0))
        token = url.rsplit("/", 1)[1].removesuffix(".ics")
        self.assertEqual(invitations.meeting_feed_user(token), self.public_member)
        outsiders = invitations.issue_meeting_feed(self.outsider)
        feed = self.client.get(f"/meetings/calendar/{outsiders}.ics")
        self.assertEqual(icalendar.Calendar.from_ical(feed.content).walk("VEVENT"), [], "nobody else's meetings")
        invitations.revoke_meeting_feed(self.public_member)
        self.assertEqual(self.client.get(url.removeprefix("http://testserver")).status_code, 404)
        self.assertEqual(self.client.get("/meetings/calendar/not-a-token.ics").status_code, 404)

    def reply_link(self, meeting, user, reply="accepted") -> str:
        return f"/meetings/{meeting.pk}/reply/{invitations.reply_token(meeting.pk, user.pk)}/?reply={reply}"

    def test_the_reply_link_records_the_persons_own_reply(self):
        meeting = self.schedule()
        link = re.search(r"(/meetings/\d+/reply/[^/\s]+/)\?reply=tentative", mail.outbox[0].body).group(1)
        owner = Attendance.objects.get(meeting=meeting, user__email=mail.outbox[0].to[0])
        page = self.client.get(link + "?reply=tentative")
        self.assertEqual(page.status_code, 200)
        owner.refresh_from_db()
        self.assertEqual(owner.rsvp, Rsvp.NEEDS_ACTION, "opening the link (as mail scanners do) records nothing")
        response = self.client.post(link, {"reply": "tentative"})
        self.assertEqual(response.status_code, 302)
        owner.refresh_from_db()
        self.assertEqual(owner.rsvp, Rsvp.TENTATIVE)
        self.assertTrue(AuditEvent.objects.filter(verb="meeting.replied", object_id=str(meeting.pk)).exists())
        self.client.force_login(self.secretary)
        detail = self.client.get(f"/meetings/{meeting.pk}/").content.decode()
        self.assertIn('data-rsvp="tentative"', detail)
        self.assertIn("Reply to the invitation", detail)

    def test_a_tampered_link_is_a_bad_request_and_another_persons_is_refused(self):
        meeting = self.schedule()
        link = self.reply_link(meeting, self.public_member)
        token = link.split("/")[4]
        tampered = link.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
        self.assertEqual(self.client.post(tampered.split("?")[0], {"reply": "accepted"}).status_code, 400)
        forged = link.replace(token, token.replace(":", ":x", 1))
        self.assertEqual(self.client.get(forged).status_code, 400)
        other_meeting = self.schedule()
        wrong_meeting = link.replace(f"/meetings/{meeting.pk}/", f"/meetings/{other_meeting.pk}/")
        self.assertEqual(self.client.post(wrong_meeting.split("?")[0], {"reply": "accepted"}).status_code, 400)
        self.client.force_login(self.private_member)
        response = self.client.post(link.split("?")[0], {"reply": "declined"})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(Attendance.objects.get(meeting=meeting, user=self.public_member).rsvp, Rsvp.NEEDS_ACTION)
        self.assertEqual(self.client.post(link.split("?")[0], {"reply": "nonsense"}).status_code, 403)

    def test_only_the_invited_person_replies_and_only_while_the_meeting_is_ahead(self):
        meeting = self.schedule()
        with self.assertRaises(PermissionDenied):
            invitations.reply_to_invitation(self.outsider, meeting, Rsvp.ACCEPTED)
        self.client.force_login(self.public_member)
        link = self.reply_link(meeting, self.public_member).split("?")[0]
        self.assertEqual(self.client.post(link, {"reply": "maybe"}).status_code, 400)
        self.assertEqual(self.client.post(link, {"reply": "declined"}).status_code, 302)
        services.set_meeting_status(self.secretary, meeting, MeetingStatus.CANCELLED)
        response = self.client.post(link, {"reply": "accepted"})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "no longer ahead", status_code=400)
        self.assertEqual(Attendance.objects.get(meeting=meeting, user=self.public_member).rsvp, Rsvp.DECLINED)

    def test_a_member_answers_on_the_meeting_page(self):
        meeting = self.schedule()
        self.client.force_login(self.private_member)
        page = self.client.get(f"/meetings/{meeting.pk}/").content.decode()
        self.assertIn("Your reply to the invitation", page)
        self.assertNotIn("Reply to the invitation</th>", page, "a member does not see the others' replies")
        action = re.search(r'action="(/meetings/\d+/reply/[^"]+)"', page).group(1)
        self.assertEqual(self.client.post(action, {"reply": "accepted"}).status_code, 302)
        self.assertEqual(Attendance.objects.get(meeting=meeting, user=self.private_member).rsvp, Rsvp.ACCEPTED)
        past = services.schedule_meeting(
            self.secretary,
            committee=self.committee,
            title="Past",
            starts_at=timezone.now() - datetime.timedelta(hours=1),
        )
        self.assertNotIn("Your reply to the invitation", self.client.get(f"/meetings/{past.pk}/").content.decode())
