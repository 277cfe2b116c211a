"""A public page costs the same number of queries whatever the history: each is measured after
one round of history and again after three more."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from governance.models import Ballot, Meeting
from tests.public.support import STARTS, PublicViewCase
from tests.public.world import publish_history


class QueryCountTests(PublicViewCase):
    def pages(self) -> list[str]:
        ballot = Ballot.objects.published().order_by("pk").first()
        charter = self.world["charter"]
        meeting = Meeting.objects.published().order_by("pk").first()
        return [
            *STARTS,
            "/public/decisions/",
            f"/public/decisions/{ballot.pk}/",
            f"/public/meetings/{meeting.pk}/minutes/",
            "/public/charters/",
            f"/public/charters/{charter.pk}/",
            "/public/credits/",
            "/public/usage/",
            "/public/roadmap/",
            "/public/record/",
            "/public/data/",
            "/public/policy/",
        ]

    def counts(self) -> dict[str, int]:
        client = Client()
        found = {}
        for url in self.pages():
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(client.get(url).status_code, 200, url)
            found[url] = len(queries)
        return found

    def test_no_public_page_costs_more_queries_as_the_history_grows(self):
        before = self.counts()
        publish_history(self, 3)
        after = self.counts()
        self.maxDiff = None
        self.assertEqual(after, before)

    def test_a_page_of_decisions_takes_a_fixed_handful_of_queries(self):
        publish_history(self, 2)
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(Client().get("/public/decisions/").status_code, 200)
        # The rate limit's counter lives in the cache (a table without Redis): not counted here.
        own = [q["sql"] for q in queries if "tgb_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]]
        # The page's count and rows, the subjects' charters, the recusals.
        self.assertEqual(len(own), 4, "\n".join(own))
