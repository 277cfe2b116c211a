"""A generated walk over every public page, download and feed: each answers anonymously, and
none carries a draft, an unpublished or restricted datum, or a person's datum (tests.public.world
seeds each of those with a marker string)."""

from __future__ import annotations

from django.test import Client

from tests.public.support import STARTS, PublicViewCase, public_urls, text_of
from tests.public.world import MARKERS, PUBLISHED


class NothingUnpublishedLeaksTests(PublicViewCase):
    rounds = 2

    def test_every_public_address_answers_and_carries_no_unpublished_datum(self):
        found = public_urls(Client())
        self.assertGreater(len(found), 25, sorted(found))
        leaks = []
        for url, response in found.items():
            self.assertEqual(response.status_code, 200, url)
            text = text_of(response)
            leaks += [f"{url}: {marker}" for marker in MARKERS if marker in text]
        self.assertEqual(leaks, [])
        # ...and the walk did reach the published history.
        text = "".join(text_of(response) for response in found.values())
        for published in PUBLISHED:
            self.assertIn(published, text)
        self.assertIn("Restricted charter no.", text)

    def test_a_signed_in_member_reads_the_same_public_pages_without_more(self):
        client = Client()
        client.force_login(self.public_chair)
        for url, response in public_urls(client, [s for s in STARTS if s != "/"]).items():
            self.assertEqual(response.status_code, 200, url)
            text = text_of(response).replace(self.public_chair.email, "")
            self.assertEqual([m for m in MARKERS if m in text], [], url)
