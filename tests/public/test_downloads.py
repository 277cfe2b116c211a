"""The open data parses with the columns the data page documents, carries its licence,
publication date and policy, and the decisions feed is valid Atom."""

from __future__ import annotations

import csv
import datetime
import io
import xml.etree.ElementTree as ET

from django.test import Client

from governance.models import Ballot
from governance.public.data import LISTS
from tests.public.support import PublicViewCase

ATOM = "{http://www.w3.org/2005/Atom}"


class DownloadTests(PublicViewCase):
    def test_every_list_downloads_as_csv_with_the_documented_columns(self):
        for name, data_list in LISTS.items():
            response = Client().get(f"/public/data/{name}.csv")
            self.assertEqual(response.status_code, 200, name)
            self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
            self.assertIn('rel="license"', response["Link"])
            self.assertIn("/public/policy/", response["Link"])
            rows = list(csv.DictReader(io.StringIO(response.content.decode())))
            self.assertEqual(list(rows[0].keys()) if rows else None, list(data_list.columns), name)

    def test_every_list_downloads_as_json_with_licence_date_policy_and_columns(self):
        for name, data_list in LISTS.items():
            body = Client().get(f"/public/data/{name}.json").json()
            self.assertEqual(body["list"], name)
            self.assertTrue(body["licence"] and body["licence_url"].startswith("https://"))
            self.assertIsNotNone(datetime.datetime.fromisoformat(body["published_at"]).tzinfo)
            self.assertTrue(body["policy"].endswith("/public/policy/"))
            self.assertEqual(body["columns"], data_list.columns)
            self.assertTrue(body["rows"], name)
            for row in body["rows"]:
                self.assertEqual(list(row), list(data_list.columns), name)

    def test_the_downloads_agree_with_the_published_records(self):
        decisions = Client().get("/public/data/decisions.json").json()["rows"]
        self.assertEqual({r["id"] for r in decisions}, set(Ballot.objects.published().values_list("pk", flat=True)))
        awards = Client().get("/public/data/awards.json").json()["rows"]
        partial = [r for r in awards if r["status"] == "partially_approved"]
        self.assertTrue(partial)
        self.assertEqual({(r["requested"], r["awarded"]) for r in partial}, {("4000.0000", "2500.0000")})
        self.assertTrue(all(r["reason"] for r in partial))
        usage = Client().get("/public/data/usage.json").json()["rows"]
        self.assertEqual(sum(float(r["unit_hours"]) for r in usage), 8.0)  # two charters, 4 hours each
        self.assertEqual({r["lead_sector"] for r in usage}, {"public", "private"})

    def test_the_decisions_feed_is_atom(self):
        response = Client().get("/public/decisions.atom")
        self.assertEqual(response["Content-Type"], "application/atom+xml; charset=utf-8")
        feed = ET.fromstring(response.content)  # noqa: S314 - our own feed, parsed to check it
        self.assertEqual(feed.tag, f"{ATOM}feed")
        for required in ("id", "title", "updated"):
            self.assertTrue(feed.find(f"{ATOM}{required}").text, required)
        self.assertIsNotNone(feed.find(f"{ATOM}author/{ATOM}name"))
        self.assertIsNotNone(feed.find(f"{ATOM}link[@rel='self']"))
        entries = feed.findall(f"{ATOM}entry")
        self.assertEqual(len(entries), Ballot.objects.published().count())
        for entry in entries:
            for required in ("id", "title", "updated"):
                self.assertTrue(entry.find(f"{ATOM}{required}").text, required)
            datetime.datetime.fromisoformat(entry.find(f"{ATOM}updated").text)
            self.assertTrue(entry.find(f"{ATOM}link").get("href").startswith("http://testserver/public/decisions/"))
        self.assertIn("Published motion", response.content.decode())
