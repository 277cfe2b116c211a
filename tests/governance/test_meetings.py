"""Meetings: the agenda carries ballots, attendance by sector, minutes frozen once approved."""

from __future__ import annotations

import csv
import datetime
import io

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from governance import services
from governance.choices import AttendanceStatus, MeetingStatus, MinutesStatus
from governance.exceptions import DomainError
from governance.models import Attendance
from tests.api_checks import APIResourceChecks
from tests.governance.ballot_support import BallotTestCase
from tests.support.ballots import close_by_both


class MeetingTests(BallotTestCase):
    def meeting(self, **fields):
        return services.schedule_meeting(
            self.secretary,
            committee=self.committee,
            title="Quarterly meeting",
            # Already begun, so it can be marked held (a meeting is held only once it has started).
            starts_at=fields.pop("starts_at", timezone.now() - datetime.timedelta(minutes=5)),
            location="Room 4",
            **fields,
        )

    def held_meeting_with_a_decision(self):
        meeting = self.meeting()
        ballot = self.motion("Adopt the calendar")
        services.add_agenda_item(self.secretary, meeting, title="Calendar 2027", ballot=ballot)
        services.declare_conflict(self.private_member, ballot, "Helios hosts the meetings.")
        self.votes(ballot, public_chair="yes", public_member="no", private_chair="yes")
        close_by_both(ballot, self.public_chair, self.private_chair)
        for person, status in (
            (self.public_chair, AttendanceStatus.PRESENT),
            (self.public_member, AttendanceStatus.REMOTE),
            (self.private_chair, AttendanceStatus.PRESENT),
            (self.private_member, AttendanceStatus.EXCUSED),
        ):
            services.record_attendance(self.secretary, meeting, person, status)
        services.set_meeting_status(self.secretary, meeting, MeetingStatus.HELD)
        services.draft_minutes(self.secretary, meeting, "The committee discussed the calendar.")
        return meeting, ballot

    def test_scheduling_lists_everyone_seated_on_the_roll(self):
        meeting = self.meeting()
        roll = dict(Attendance.objects.filter(meeting=meeting).values_list("user__username", "voting"))
        self.assertEqual(roll, {"ana": True, "ben": True, "carla": True, "erik": True, "grace": False})

    def test_attendance_is_counted_per_sector_for_voting_members(self):
        meeting, _ = self.held_meeting_with_a_decision()
        meeting.refresh_from_db()
        by_sector = {row["sector"]: row for row in meeting.attendance_by_sector()}
        self.assertEqual((by_sector["public"]["voting"], by_sector["public"]["attending"]), (2, 2))
        self.assertEqual(
            (by_sector["private"]["attending"], by_sector["private"]["excused"], by_sector["private"]["absent"]),
            (1, 1, 0),
        )

    def test_an_agenda_item_carries_a_ballot_of_the_same_committee_once(self):
        meeting = self.meeting()
        ballot = self.motion()
        item = services.add_agenda_item(self.secretary, meeting, title="Vote", ballot=ballot)
        self.assertEqual((item.position, ballot.agenda_item), (1, item))
        with self.assertRaises(ValidationError):
            services.add_agenda_item(self.secretary, meeting, title="Again", ballot=ballot)

    def test_only_those_who_run_the_committee_schedule_and_write_minutes(self):
        with self.assertRaises(PermissionDenied):
            services.schedule_meeting(self.public_member, committee=self.committee, title="x", starts_at=timezone.now())
        meeting = self.meeting()
        with self.assertRaises(PermissionDenied):
            services.draft_minutes(self.public_member, meeting, "My version")

    def test_a_co_chair_approves_the_minutes_and_they_freeze(self):
        meeting, _ = self.held_meeting_with_a_decision()
        with self.assertRaises(PermissionDenied):
            services.approve_minutes(self.secretary, meeting)
        minutes = services.approve_minutes(self.private_chair, meeting)
        self.assertEqual(minutes.status, MinutesStatus.APPROVED)
        self.assertEqual(len(minutes.digest), 64)
        for attempt in (
            lambda: services.draft_minutes(self.secretary, meeting, "Rewritten"),
            lambda: services.record_attendance(self.secretary, meeting, self.private_member, AttendanceStatus.PRESENT),
            lambda: services.add_agenda_item(self.secretary, meeting, title="Late item"),
            lambda: services.approve_minutes(self.public_chair, meeting),
        ):
            with self.assertRaises(DomainError):
                attempt()
        minutes.refresh_from_db()
        self.assertEqual(minutes.body, "The committee discussed the calendar.")

    def test_minutes_of_a_meeting_not_held_or_with_an_open_ballot_are_not_approved(self):
        meeting = self.meeting()
        services.draft_minutes(self.secretary, meeting, "Notes")
        with self.assertRaisesMessage(DomainError, "held"):
            services.approve_minutes(self.public_chair, meeting)
        services.add_agenda_item(self.secretary, meeting, title="Vote", ballot=self.motion())
        services.set_meeting_status(self.secretary, meeting, MeetingStatus.HELD)
        with self.assertRaisesMessage(DomainError, "is not closed"):
            services.approve_minutes(self.public_chair, meeting)

    def test_the_printable_minutes_show_attendance_tallies_recusals_and_the_roll_call(self):
        meeting, _ = self.held_meeting_with_a_decision()
        services.approve_minutes(self.public_chair, meeting)
        self.client.force_login(self.outsider)
        page = self.client.get(f"/meetings/{meeting.pk}/minutes/").content.decode()
        self.assertIn("Minutes of Quarterly meeting", page)
        self.assertIn("Erik (private sector): Helios hosts the meetings.", page)
        self.assertIn("Tally by sector", page)
        self.assertIn("Outcome: <strong>Passed</strong>", page)
        self.assertIn("Roll-call vote", page)

    def test_the_roll_call_exports_as_csv(self):
        meeting, ballot = self.held_meeting_with_a_decision()
        services.approve_minutes(self.public_chair, meeting)
        self.client.force_login(self.auditor)
        response = self.client.get(f"/meetings/{meeting.pk}/roll-call.csv")
        self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        votes = {row["member"]: (row["sector"], row["vote"], row["recusal_reason"]) for row in rows}
        self.assertEqual(
            votes,
            {
                "Ana": ("public", "yes", ""),
                "Carla": ("public", "no", ""),
                "Ben": ("private", "yes", ""),
                "Erik": ("private", "recused", "Helios hosts the meetings."),
            },
        )
        self.assertEqual({row["ballot_id"] for row in rows}, {str(ballot.pk)})

    def test_draft_minutes_are_not_published(self):
        meeting, _ = self.held_meeting_with_a_decision()
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(f"/meetings/{meeting.pk}/minutes/").status_code, 403)
        self.assertEqual(self.client.get(f"/meetings/{meeting.pk}/roll-call.csv").status_code, 403)
        self.assertNotContains(self.client.get(f"/meetings/{meeting.pk}/"), "discussed the calendar")
        self.client.force_login(self.secretary)
        self.assertContains(self.client.get(f"/meetings/{meeting.pk}/minutes/"), "Draft")

    def test_the_secretary_records_attendance_on_the_meeting_page(self):
        meeting = self.meeting()
        self.client.force_login(self.secretary)
        page = self.client.get(f"/meetings/{meeting.pk}/")
        self.assertContains(page, "Attendance of voting members by sector")
        response = self.client.post(
            f"/meetings/{meeting.pk}/attendance/",
            {f"status-{self.public_member.pk}": "present", f"status-{self.private_member.pk}": "remote"},
            follow=True,
        )
        self.assertContains(response, "Attendance is recorded.")
        self.assertContains(response, '<td class="num" data-count="attending">1</td>', count=2)
        self.client.force_login(self.public_member)
        response = self.client.post(
            f"/meetings/{meeting.pk}/attendance/", {f"status-{self.public_member.pk}": "absent"}, follow=True
        )
        self.assertContains(response, "run its meetings")


class MeetingAPITests(APIResourceChecks, BallotTestCase):
    url = "/api/meetings/"
    read_only = True

    def make_object(self, n):
        meeting = services.schedule_meeting(
            self.secretary, committee=self.committee, title=f"Meeting {n}", starts_at=timezone.now()
        )
        services.add_agenda_item(self.secretary, meeting, title="Item")
        services.draft_minutes(self.secretary, meeting, "Draft notes.")
        return meeting

    def test_the_api_is_read_only(self):
        meeting = self.make_object(1)
        client = self.api(self.admin)
        self.assertEqual(client.post(self.url, {"title": "x"}, format="json").status_code, 405)
        self.assertEqual(client.patch(f"{self.url}{meeting.pk}/", {"title": "x"}, format="json").status_code, 405)

    def test_draft_minutes_are_shown_only_to_those_who_run_the_committee(self):
        meeting = self.make_object(1)
        self.assertEqual(
            self.api(self.secretary).get(f"{self.url}{meeting.pk}/").json()["minutes"]["body"], "Draft notes."
        )
        body = self.api(self.public_member).get(f"{self.url}{meeting.pk}/").json()
        self.assertEqual(body["minutes"]["status"], "draft")
        self.assertIsNone(body["minutes"]["body"])
        self.assertEqual(
            body["attendance_by_sector"][0],
            {"sector": "public", "voting": 2, "attending": 0, "excused": 0, "absent": 2},
        )
        self.assertEqual(body["agenda"], [{"position": 1, "title": "Item", "description": "", "ballot": None}])

    def test_listing_costs_the_same_queries_for_few_and_many_rows(self):
        # An empty list skips the prefetches: start the baseline from one row.
        self.make_object(0)
        super().test_listing_costs_the_same_queries_for_few_and_many_rows()
