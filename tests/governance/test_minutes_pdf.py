"""The approved minutes as a PDF: made once at approval, archived with its SHA-256, the same
bytes every render, served to readers of the minutes and to the public; its text carries the
agenda, per-sector tallies, recusals, the digest and each decision's place in the record."""

from __future__ import annotations

import datetime
import hashlib
import io

import pypdf
import segno
from django.conf import settings
from django.test import Client
from django.utils import timezone

from governance import services
from governance.choices import AttendanceStatus, MeetingStatus
from governance.exceptions import DomainError
from governance.minutes_pdf import pdf_context, render_minutes_pdf
from governance.models import AgendaItem, AuditEvent, Ballot, Meeting, Minutes, MinutesPdf
from governance.transparency.integrate import integrate, push_latest
from tests.governance.ballot_support import BallotTestCase
from tests.governance.test_ballot_notifications import tasks_run_in_process
from tests.governance.transparency.witnesses import WitnessedLogCase
from tests.public.support import PublicViewCase, text_of
from tests.public.world import MARKERS
from tests.support.ballots import close_by_both


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_links(content: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(content))
    links = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action and "/URI" in action:
                links.append(str(action["/URI"]))
    return links


class MinutesWorld:
    """A held meeting with one decided ballot (a recusal with its reason) and draft minutes."""

    def held_meeting(self):
        meeting = services.schedule_meeting(
            self.secretary,
            committee=self.committee,
            title="Quarterly meeting",
            starts_at=self.now_minus_minutes(5),
            location="Room 4",
        )
        ballot = self.motion("Adopt the calendar")
        services.add_agenda_item(self.secretary, meeting, title="Calendar 2027", ballot=ballot)
        services.add_agenda_item(self.secretary, meeting, title="Any other business")
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

    @staticmethod
    def now_minus_minutes(minutes: int) -> datetime.datetime:
        return timezone.now() - datetime.timedelta(minutes=minutes)


class MinutesPdfTests(MinutesWorld, BallotTestCase):
    def approve(self, meeting) -> Minutes:
        with tasks_run_in_process(), self.captureOnCommitCallbacks(execute=True):
            services.approve_minutes(self.public_chair, meeting)
        return Minutes.objects.get(meeting=meeting)

    def test_approval_archives_the_pdf_once_and_records_its_hash(self):
        meeting, _ = self.held_meeting()
        minutes = self.approve(meeting)
        archived = bytes(MinutesPdf.objects.get(minutes=minutes).content)
        self.assertTrue(archived.startswith(b"%PDF-"))
        self.assertEqual(minutes.pdf_sha256, hashlib.sha256(archived).hexdigest())
        self.assertEqual(services.archive_minutes_pdf(minutes.pk), minutes.pdf_sha256, "a second run makes nothing")
        self.assertEqual(MinutesPdf.objects.filter(minutes=minutes).count(), 1)
        self.assertEqual(AuditEvent.objects.filter(verb="minutes.pdf_archived", object_id=str(minutes.pk)).count(), 1)

    def test_the_same_record_renders_to_the_same_bytes(self):
        meeting, _ = self.held_meeting()
        minutes = self.approve(meeting)
        first, second = render_minutes_pdf(minutes), render_minutes_pdf(minutes)
        self.assertEqual(hashlib.sha256(first).hexdigest(), hashlib.sha256(second).hexdigest())
        self.assertEqual(hashlib.sha256(first).hexdigest(), minutes.pdf_sha256)

    def test_the_pdf_text_carries_agenda_tallies_recusals_and_digest(self):
        meeting, ballot = self.held_meeting()
        minutes = self.approve(meeting)
        ballot.refresh_from_db()
        text = pdf_text(bytes(minutes.pdf.content))
        for expected in (
            "Minutes of Quarterly meeting",
            "Calendar 2027",
            "Any other business",
            "Helios hosts the meetings.",
            minutes.digest,
            "Tally by sector",
            "Outcome: Passed",
        ):
            self.assertIn(expected, text.replace("\n", " ") if " " in expected else text.replace("\n", ""))
        tally = ballot.result["sectors"]
        public = tally["public"]
        # The public row: Eligible, Recused, Yes, No, Abstain, in that order.
        row = f"Public {public['eligible']} {public['recused']} {public['yes']} {public['no']} {public['abstain']}"
        self.assertIn(row, text)
        private = tally["private"]
        self.assertEqual((private["recused"], private["yes"]), (1, 1))
        self.assertIn(f"Private {private['eligible']} 1 1 0 0", text)
        url = settings.SITE_URL.rstrip("/") + f"/public/decisions/{ballot.pk}/"
        self.assertIn(url, pdf_links(bytes(minutes.pdf.content)))

    def test_the_pdf_is_served_to_readers_and_the_public_with_the_recorded_hash(self):
        meeting, _ = self.held_meeting()
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(f"/meetings/{meeting.pk}/minutes.pdf").status_code, 404, "a draft has none")
        self.client.logout()
        self.assertEqual(self.client.get(f"/public/meetings/{meeting.pk}/minutes.pdf").status_code, 404)
        minutes = self.approve(meeting)
        self.assertEqual(self.client.get(f"/meetings/{meeting.pk}/minutes.pdf").status_code, 302, "sign in first")
        public = self.client.get(f"/public/meetings/{meeting.pk}/minutes.pdf")
        self.assertEqual((public.status_code, public["Content-Type"]), (200, "application/pdf"))
        self.assertEqual(hashlib.sha256(public.content).hexdigest(), minutes.pdf_sha256)
        self.client.force_login(self.outsider)
        member = self.client.get(f"/meetings/{meeting.pk}/minutes.pdf")
        self.assertEqual(hashlib.sha256(member.content).hexdigest(), minutes.pdf_sha256)
        self.assertEqual(member["X-Content-SHA256"], minutes.pdf_sha256)
        self.assertContains(self.client.get(f"/meetings/{meeting.pk}/"), minutes.pdf_sha256)
        self.assertContains(self.client.get(f"/public/meetings/{meeting.pk}/minutes/"), "The minutes as a PDF")

    def test_only_approved_minutes_have_a_pdf(self):
        meeting, _ = self.held_meeting()
        with self.assertRaises(DomainError):
            services.archive_minutes_pdf(meeting.minutes.pk)
        self.assertFalse(MinutesPdf.objects.exists())


class MinutesPdfRecordTests(MinutesWorld, WitnessedLogCase, BallotTestCase):
    """With the real log and a witness per sector: the decision's log index and checkpoint."""

    def test_each_decision_names_its_log_index_checkpoint_and_public_page(self):
        meeting, ballot = self.held_meeting()
        integrate()
        push_latest()
        services.approve_minutes(self.public_chair, meeting)
        minutes = Minutes.objects.get(meeting=meeting)
        context = pdf_context(minutes)
        decision = next(entry["decision"] for entry in context["agenda"] if entry["decision"])
        closed = AuditEvent.objects.get(verb="ballot.closed", object_id=str(ballot.pk))
        self.assertEqual(decision["log_index"], closed.leaf_index)
        self.assertIsNotNone(decision["checkpoint"])
        self.assertGreater(decision["checkpoint"].size, closed.leaf_index)
        url = settings.SITE_URL.rstrip("/") + f"/public/decisions/{ballot.pk}/"
        self.assertEqual(decision["qr"], segno.make(url, error="m").svg_data_uri(scale=4, border=2))
        content = render_minutes_pdf(minutes)
        text = pdf_text(content)
        self.assertIn(f"Log index: {closed.leaf_index}", text)
        self.assertIn(f"tree size {decision['checkpoint'].size}", text)
        self.assertIn(decision["checkpoint"].root, text.replace("\n", ""))
        self.assertIn(url, pdf_links(content))
        self.assertEqual(self.client.get(url.removeprefix(settings.SITE_URL.rstrip("/"))).status_code, 200)


class MinutesPdfPublicTests(PublicViewCase):
    """The PDF is public, so it says no more than the public view does."""

    def test_a_decision_on_a_restricted_charter_appears_under_its_neutral_title(self):
        meeting = Meeting.objects.published().get()
        restricted = Ballot.objects.get(title__startswith="Approve SECRET-RESTRICTED-TITLE")
        AgendaItem.objects.create(meeting=meeting, position=2, title=restricted.title, ballot=restricted)
        response = Client().get(f"/public/meetings/{meeting.pk}/minutes.pdf")
        self.assertEqual(response.status_code, 200)
        text = text_of(response)
        self.assertEqual([marker for marker in MARKERS if marker in text], [])
        self.assertIn("Decision on a restricted charter", text.replace("\n", " "))
        self.assertIn("its reason is withheld", text.replace("\n", " "))
        self.assertIn("Approved minutes", text)
