"""Who reaches what: anyone reads every public page and download without signing in; every
other page still asks them to sign in and the API still answers 401; the public view is
read-only, refuses bad input with a 4xx and a message, and limits each address."""

from __future__ import annotations

import re

from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from charters.models import PUBLISHED_CHARTER_STATUSES, Charter
from governance.choices import BallotStatus
from governance.models import Ballot
from tests.public.support import STARTS, PublicViewCase, public_urls

# Outside /public/, what a visitor who is not signed in may open, and why.
ANONYMOUS_ELSEWHERE = {
    "/": "the public home, for visitors who are not signed in",
    "/login/": "the sign-in page",
    "/accounts/": "single sign-on: the OpenID Connect sign-in, its callback, a provider's refusal (tests/identity)",
    "/logout/": "signing out",
    "/healthz/": "the load balancer's health check",
    "/powers/": "who may do what, published for everyone (DESIGN.md 2.7)",
    "/transparency/": "the record's raw endpoints (DESIGN.md §3)",
    "/meetings/1/reply/x/": "a meeting invitation's reply link: its signed token names the person (400 when bad)",
}


def page_routes() -> list[str]:
    """Every URL pattern outside /api/, /admin/ and /static/, with sample arguments."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + route)
            elif isinstance(entry, URLPattern):
                path = prefix + route
                if not path.startswith(("api/", "admin/", "static/")):
                    path = re.sub(r"<int:\w+>", "1", path)
                    found.append("/" + re.sub(r"<(?:slug|str):\w+>", "x", path))

    walk(get_resolver().url_patterns, "")
    return found


class AnonymousAccessTests(PublicViewCase):
    def test_a_visitor_who_never_signs_in_reads_every_public_page_and_download(self):
        found = public_urls(Client())
        for start in STARTS:
            self.assertEqual(found[start].status_code, 200, start)
        for url, response in found.items():
            self.assertEqual(response.status_code, 200, url)
            self.assertNotIn("Set-Cookie", response.headers, f"{url} sets a cookie on an anonymous visitor")

    def test_the_home_page_is_the_public_home_with_a_sign_in_link_until_one_signs_in(self):
        response = self.client.get("/")
        self.assertContains(response, "What the Technical Governance Body decides")
        self.assertContains(response, 'href="/login/"')
        self.client.force_login(self.public_member)
        self.assertContains(self.client.get("/"), "Welcome,")

    def test_every_other_page_still_asks_a_visitor_to_sign_in(self):
        client = Client()
        for path in page_routes():
            if path.startswith("/public/") or any(
                path == allowed or (allowed.endswith("/") and allowed != "/" and path.startswith(allowed))
                for allowed in ANONYMOUS_ELSEWHERE
            ):
                continue
            response = client.get(path)
            with self.subTest(path=path):
                if response.status_code == 302:
                    self.assertTrue(response["Location"].startswith("/login/"), response["Location"])
                else:
                    self.assertIn(response.status_code, (401, 403, 404, 405), path)

    def test_the_api_still_answers_401_to_a_visitor(self):
        for path in ("/api/ballots/", "/api/charters/", "/api/credit-requests/", "/api/audit-events/"):
            self.assertEqual(self.api().get(path).status_code, 401, path)

    def test_the_public_view_is_read_only(self):
        client = Client(enforce_csrf_checks=True)
        self.assertEqual(client.post("/public/decisions/").status_code, 403)  # no CSRF token
        self.assertEqual(Client().post("/public/decisions/").status_code, 405)
        response = Client().put("/public/data/decisions.json")
        self.assertEqual(response.status_code, 405)
        self.assertEqual(response["Allow"], "GET, HEAD")

    def test_bad_addresses_and_parameters_get_a_4xx_with_a_message(self):
        client = Client()
        for path, status in (
            ("/public/decisions/999999/", 404),
            ("/public/charters/999999/", 404),
            ("/public/meetings/999999/minutes/", 404),
            ("/public/receipts/999999", 404),
            ("/public/decisions/999999/event.json", 404),
            ("/public/data/nothing.csv", 404),
            ("/public/data/nothing.json", 404),
        ):
            response = client.get(path)
            self.assertEqual(response.status_code, status, path)
            self.assertTrue(response.content.strip(), path)
        for query in ("?page=abc", "?page=-1", "?page=99999999999999999999", "?page=%00", "?page=١"):
            self.assertEqual(client.get("/public/decisions/" + query).status_code, 200, query)
            self.assertEqual(client.get("/public/usage/" + query).status_code, 200, query)

    def test_draft_and_open_ballots_and_unpublished_charters_are_not_found(self):
        for ballot in Ballot.objects.exclude(status=BallotStatus.CLOSED):
            self.assertEqual(self.client.get(f"/public/decisions/{ballot.pk}/").status_code, 404, ballot)
        for charter in Charter.objects.exclude(status__in=PUBLISHED_CHARTER_STATUSES):
            self.assertEqual(self.client.get(f"/public/charters/{charter.pk}/").status_code, 404, charter)

    @override_settings(PUBLIC_RATE_LIMIT="3/min")
    def test_an_address_that_asks_too_often_is_told_when_to_come_back(self):
        client = Client(REMOTE_ADDR="203.0.113.9")
        for _ in range(3):
            self.assertEqual(client.get("/public/").status_code, 200)
        response = client.get("/public/")
        self.assertEqual(response.status_code, 429)
        self.assertIn("Retry-After", response.headers)
        self.assertContains(response, "try again", status_code=429)
        # Another address is not held up.
        self.assertEqual(Client(REMOTE_ADDR="203.0.113.10").get("/public/").status_code, 200)
