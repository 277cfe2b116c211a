"""Every list endpoint of the API × every persona, generated from the URL resolver.

New endpoints are covered the day they are registered: the matrix walks the routers under
/api/, so nobody has to remember to add a row here. For each endpoint and person it checks
that nothing answers 5xx, that anonymous callers are asked to authenticate, and that a list
never shows what its detail would refuse — nor hides something its detail would give away.
"""

from __future__ import annotations

import re
from unittest.mock import patch

from django.core.management import call_command
from django.test import TestCase, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from governance.management.commands import seed_demo as seed_demo_command
from governance.models import AuditEvent, User

# The demo body's people, by the role they play in the matrix.
PERSONAS = {
    "outsider": None,  # created below: belongs to no organization, holds no role
    "public staff": "sam.staff",
    "private staff": "tara.staff",
    "public member": "carla.public",
    "private member": "erik.private",
    "public co-chair": "ana.public",
    "private co-chair": "ben.private",
    "secretary": "grace.secretary",
    "observer": "oscar.observer",
    "program manager": "paula.pm",
    "auditor": "uma.auditor",
    "admin": "admin",
}


# Detail reads per persona and endpoint on each side (shown / hidden), spread over the ids:
# the audit log alone holds hundreds of events, and twelve people reading each one tells
# nothing the spread does not.
SAMPLE = 6


def spread(ids: set, count: int = SAMPLE) -> list:
    """Up to `count` ids taken evenly from first to last."""
    ordered = sorted(ids, key=str)
    if len(ordered) <= count:
        return ordered
    step = (len(ordered) - 1) / (count - 1)
    return [ordered[round(i * step)] for i in range(count)]


def router_routes() -> list[tuple[str, dict]]:
    """(path, {method: action}) of every viewset route, its regex as the resolver holds it."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = str(entry.pattern).lstrip("^").rstrip("$")
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + route)
            elif isinstance(entry, URLPattern) and getattr(entry.callback, "actions", None):
                found.append((prefix + route, entry.callback.actions))

    walk(get_resolver().url_patterns, "")
    return found


def api_list_urls() -> list[str]:
    """The path of every router list endpoint mounted under /api/."""
    return sorted(
        {
            "/" + path.replace("\\", "")
            for path, actions in router_routes()
            if actions.get("get") == "list" and path.startswith("api/") and "(?P" not in path
        }
    )


# The demo's thirteen logins would spend most of the set-up in PBKDF2; nobody logs in here.
FAST_HASHING = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


@FAST_HASHING
class PermissionMatrixTests(TestCase):
    """The whole demo body, seeded once, read by every persona through every list."""

    @classmethod
    def setUpTestData(cls):
        # The whole demo but the metrics history (two days of minute samples): the metric
        # endpoints' permissions are checked in tests/compute/metrics, and those samples would
        # multiply the seeding time without adding a single permission case.
        seeders = [name for name in seed_demo_command.APP_SEEDERS if name != "compute.demo.metrics"]
        with patch.object(seed_demo_command, "APP_SEEDERS", seeders):
            call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - closed with the process
        User.objects.create_user("olga.outsider", password="irrelevant-here")  # noqa: S106
        cls.people = {
            name: User.objects.get(username=username or "olga.outsider") for name, username in PERSONAS.items()
        }
        cls.urls = api_list_urls()

    def client_for(self, user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    def listed_ids(self, client: APIClient, url: str) -> tuple[int, set]:
        """Every id a caller's list shows, across pages; the status of the first page."""
        ids: set = set()
        next_url: str | None = f"{url}?page_size=500"
        status = None
        while next_url:
            response = client.get(next_url)
            status = status or response.status_code
            self.assertLess(response.status_code, 500, f"{next_url}: {response.content[:300]!r}")
            if response.status_code != 200:
                return status, ids
            body = response.json()
            rows = body["results"] if isinstance(body, dict) and "results" in body else body
            ids.update(row["id"] for row in rows if isinstance(row, dict) and "id" in row)
            next_url = body.get("next") if isinstance(body, dict) else None
        return status, ids

    def test_the_matrix_discovers_the_list_endpoints_of_every_app(self):
        for expected in ("/api/ballots/", "/api/charters/", "/api/users/", "/api/audit-events/"):
            self.assertIn(expected, self.urls)

    def test_anonymous_callers_are_asked_to_authenticate_everywhere(self):
        for url in self.urls:
            with self.subTest(url=url):
                self.assertEqual(self.client_for(None).get(url).status_code, 401)

    def test_a_list_never_shows_what_its_detail_would_refuse_nor_hides_what_it_would_give(self):
        admin_client = self.client_for(self.people["admin"])
        for url in self.urls:
            admin_status, everything = self.listed_ids(admin_client, url)
            self.assertEqual(admin_status, 200, url)
            for persona, user in self.people.items():
                with self.subTest(url=url, persona=persona):
                    client = self.client_for(user)
                    status, visible = self.listed_ids(client, url)
                    self.assertIn(status, (200, 403), f"{persona} listing {url}")
                    for pk in spread(visible):
                        response = client.get(f"{url}{pk}/")
                        self.assertEqual(response.status_code, 200, f"{persona} reads {url}{pk}/ from their list")
                    for pk in spread(everything - visible):
                        response = client.get(f"{url}{pk}/")
                        self.assertIn(
                            response.status_code, (403, 404), f"{persona} reads {url}{pk}/ that their list hides"
                        )

    def test_nothing_a_person_cannot_see_can_be_changed_by_them(self):
        """Every write route of every resource (PATCH, PUT, DELETE, and each POST action on an
        object), tried by every persona on objects outside their view: refused without saying
        whether the object exists, and nothing written."""
        admin_client = self.client_for(self.people["admin"])
        events_before = AuditEvent.objects.count()
        routes = api_write_routes()
        self.assertTrue(any(suffix == "/vote/" for _, suffix, _ in routes), routes)
        everything = {url: self.listed_ids(admin_client, url)[1] for url in self.urls}
        tried = 0
        for persona, user in self.people.items():
            if persona == "admin":
                continue
            client = self.client_for(user)
            visible = {url: self.listed_ids(client, url)[1] for url in self.urls}
            for base, suffix, methods in routes:
                for pk in spread(everything[base] - visible[base], 2):
                    for method in methods:
                        with self.subTest(persona=persona, route=f"{method} {base}{pk}{suffix}"):
                            response = client.generic(
                                method, f"{base}{pk}{suffix}", "{}", content_type="application/json"
                            )
                            tried += 1
                            self.assertIn(response.status_code, (403, 404, 405), response.content[:200])
        self.assertGreater(tried, 100)
        self.assertEqual(AuditEvent.objects.count(), events_before, "a refused write changed something")


def api_write_routes() -> list[tuple[str, str, list[str]]]:
    """(list URL, suffix after the id, write methods) of every object route under /api/."""
    found: dict[tuple[str, str], set[str]] = {}
    for path, actions in router_routes():
        match = re.fullmatch(r"(api/.+/)\(\?P<pk>[^)]*\)(/.*)", path)
        writes = {method.upper() for method in actions if method not in ("get", "head", "options")}
        if match and writes and "(?P" not in match.group(2):
            found.setdefault(("/" + match.group(1), match.group(2).replace("\\", "")), set()).update(writes)
    return [(base, suffix, sorted(methods)) for (base, suffix), methods in sorted(found.items())]
