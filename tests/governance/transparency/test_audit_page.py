"""The auditors' page: events newest first with filters, receipts, verify now, CSV export."""

from __future__ import annotations

import csv
import io

from governance.models import AuditEvent
from governance.transparency.integrate import integrate, push_latest
from tests.governance.transparency.witnesses import WitnessedLogCase


class AuditPageTests(WitnessedLogCase):
    def test_an_auditor_sees_the_events_newest_first_with_their_receipts(self):
        integrate()
        push_latest()
        self.client.force_login(self.auditor)
        response = self.client.get("/audit/")
        self.assertEqual(response.status_code, 200)
        newest = AuditEvent.objects.order_by("-id").first()
        self.assertEqual(response.context["page"][0], newest)
        self.assertContains(response, f"/api/audit-events/{newest.pk}/receipt/")
        self.assertContains(response, "Checkpoint cosigned by both sectors")
        self.assertContains(response, self.public.vkey)

    def test_filters_narrow_the_list_and_the_csv_follows_them(self):
        self.client.force_login(self.auditor)
        response = self.client.get("/audit/", {"verb": "membership.created"})
        self.assertEqual({e.verb for e in response.context["page"]}, {"membership.created"})
        rows = list(
            csv.reader(io.StringIO(self.client.get("/audit/events.csv?verb=membership.created").content.decode()))
        )
        self.assertEqual(rows[0][:2], ["id", "leaf_index"])
        self.assertEqual(len(rows) - 1, AuditEvent.objects.filter(verb="membership.created").count())
        self.assertEqual(self.client.get("/audit/", {"from": "not-a-date"}).status_code, 200)

    def test_verify_now_shows_the_result_with_the_witnesses(self):
        integrate()
        push_latest()
        self.client.force_login(self.auditor)
        response = self.client.post("/audit/verify/")
        self.assertContains(response, "The record holds")
        self.assertContains(response, "agrees")

    def test_members_and_outsiders_may_not_read_the_page(self):
        for person in (self.public_member, self.outsider):
            self.client.force_login(person)
            self.assertEqual(self.client.get("/audit/").status_code, 403)
            self.assertEqual(self.client.get("/audit/events.csv").status_code, 403)
            self.assertEqual(self.client.post("/audit/verify/").status_code, 403)
        self.client.logout()
        self.assertEqual(self.client.get("/audit/").status_code, 302)
