"""Exports: milestones as CSV, and the per-person iCalendar feed read by a real parser."""

import csv
import datetime
import io

import icalendar
from django.urls import reverse

from roadmap.models import CalendarFeed
from roadmap.services import milestones
from tests.roadmap.support import RoadmapTestCase, days


class CsvExportTests(RoadmapTestCase):
    def rows(self, user):
        self.client.force_login(user)
        response = self.client.get(reverse("roadmap:milestones-csv", args=[self.roadmap.pk]))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/csv")
        return list(csv.DictReader(io.StringIO(response.content.decode())))

    def test_every_milestone_is_a_row_with_its_dates_slippage_and_flags(self):
        milestones.update_milestone(self.program_manager, self.data, forecast_date=days(130))
        rows = {row["milestone"]: row for row in self.rows(self.public_member)}
        self.assertEqual(len(rows), 5)
        data = rows["Training data pipeline"]
        self.assertEqual(data["baseline_date"], days(30).isoformat())
        self.assertEqual(data["forecast_date"], days(130).isoformat())
        self.assertEqual(data["slippage_days"], "100")
        self.assertEqual(rows["Pretraining run"]["forecast_before_dependency"], "yes")
        self.assertEqual(rows["Pretraining run"]["depends_on"], str(self.data.pk))

    def test_a_cell_that_looks_like_a_formula_is_defused(self):
        milestones.update_milestone(self.program_manager, self.consent, title='=HYPERLINK("http://evil")')
        rows = self.rows(self.private_member)
        self.assertIn('\'=HYPERLINK("http://evil")', [row["milestone"] for row in rows])

    def test_outsiders_get_no_export(self):
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(reverse("roadmap:milestones-csv", args=[self.roadmap.pk])).status_code, 403)


class CalendarFeedTests(RoadmapTestCase):
    def issue(self, user):
        self.client.force_login(user)
        response = self.client.post(reverse("roadmap:calendar"), {"action": "issue"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Cache-Control"], "no-store")
        url = response.context["feed_url"]
        self.client.logout()
        return url

    def test_the_feed_parses_as_icalendar_with_one_dated_event_per_milestone(self):
        self.approve()
        milestones.update_milestone(self.program_manager, self.data, status="done", actual_date=days(-1))
        url = self.issue(self.public_member)
        response = self.client.get(url)  # calendar clients send no session
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith("text/calendar"))
        calendar = icalendar.Calendar.from_ical(response.content)
        events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
        self.assertEqual(len(events), 5)
        release = events[f"milestone-{self.release.pk}@tgb-portal"]
        self.assertEqual(release.decoded("DTSTART"), days(200))
        self.assertIsInstance(release.decoded("DTSTART"), datetime.date)
        self.assertEqual(release.decoded("DTEND"), days(201))
        self.assertIn("Open-weights release (Sovereign foundation model)", str(release["SUMMARY"]))
        self.assertIn("Baseline", str(release["DESCRIPTION"]))
        self.assertEqual(events[f"milestone-{self.data.pk}@tgb-portal"].decoded("DTSTART"), days(-1))
        self.assertTrue(str(release["URL"]).endswith(reverse("roadmap:milestone-detail", args=[self.release.pk])))

    def test_only_a_hash_of_the_token_is_kept(self):
        url = self.issue(self.staff)
        token = url.rsplit("/", 1)[1].removesuffix(".ics")
        feed = CalendarFeed.objects.get(user=self.staff)
        self.assertNotEqual(feed.token_hash, token)
        self.assertEqual(feed.token_hash, CalendarFeed.hash_token(token))

    def test_a_new_address_replaces_the_old_one_and_stopping_ends_it(self):
        old = self.issue(self.staff)
        new = self.issue(self.staff)
        self.assertEqual(self.client.get(old).status_code, 404)
        self.assertEqual(self.client.get(new).status_code, 200)
        self.client.force_login(self.staff)
        self.client.post(reverse("roadmap:calendar"), {"action": "revoke"})
        self.client.logout()
        self.assertEqual(self.client.get(new).status_code, 404)

    def test_an_unknown_token_is_a_404(self):
        self.assertEqual(self.client.get(reverse("roadmap:calendar-feed", args=["not-a-token"])).status_code, 404)

    def test_a_feed_stops_when_its_owner_leaves_the_body(self):
        url = self.issue(self.staff)
        self.staff.is_active = False
        self.staff.save()
        self.assertEqual(self.client.get(url).status_code, 404)

    def test_an_outsider_cannot_have_a_feed(self):
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.post(reverse("roadmap:calendar"), {"action": "issue"}).status_code, 403)
