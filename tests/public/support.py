"""Shared by the public-view tests: the test case with its published history, and the walk over
every public page, download and feed that a visitor can reach."""

from __future__ import annotations

import io
import re
from collections import deque
from urllib.parse import urlsplit

import pypdf
from django.test import Client, override_settings

from governance.public.data import LISTS
from tests.governance.ballot_support import BallotTestCase
from tests.public.world import publish_history

HREF = re.compile(r'href="([^"#]+)"')

# Where a visitor starts; everything else is found by following links.
STARTS = ["/", "/public/", "/public/decisions.atom"] + [
    f"/public/data/{name}.{kind}" for name in LISTS for kind in ("csv", "json")
]


def text_of(response) -> str:
    """What a response says: its text, or for a PDF (the approved minutes) the text on its pages."""
    if response.get("Content-Type", "") == "application/pdf":
        return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    return response.content.decode()


def public_urls(client: Client, starts: list[str] | None = None) -> dict[str, object]:
    """Every address under /public/ (and /) that the public pages link to, with its response."""
    seen: dict[str, object] = {}
    queue = deque(STARTS if starts is None else starts)
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response
        if response.get("Content-Type", "").startswith("text/html"):
            for href in HREF.findall(response.content.decode()):
                href = href.replace("&amp;", "&")
                parts = urlsplit(href)
                if parts.netloc or not parts.path.startswith("/public/"):
                    continue
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen


@override_settings(PUBLIC_CACHE_SECONDS=0, PUBLIC_RATE_LIMIT="100000/min")
class PublicViewCase(BallotTestCase):
    """The body of tests.base with one round of published and unpublished history."""

    rounds = 1

    def setUp(self):
        super().setUp()
        self.world = publish_history(self, self.rounds)
