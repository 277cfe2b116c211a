"""Hostile values on every way in, discovered rather than listed: every API operation that takes
a body (from the OpenAPI schema the router's viewsets produce) and every HTML form a person can
reach (crawled from the home page as the administrator). Each request must answer below 500,
and a refused one must leave every table of the portal as it was.

Bounded for CI: a few hypothesis examples (fixed seed, no example database), each of which
sends one hostile value in one field to every operation and every form, inside a savepoint
that is rolled back so every request meets the same data.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from charters.choices import IPFramework
from charters.models import Charter
from governance import services as governance
from governance.choices import SubjectType
from tests.bad_input import hostile
from tests.roadmap.support import RoadmapTestCase

EXAMPLES = int(os.environ.get("TGB_BAD_INPUT_EXAMPLES", "6"))  # more for a deeper local run
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
# Forms whose success ends the administrator's session: the crawl keeps its person signed in.
SESSION_ENDING = {"logout", "login", "sign-out-everywhere", "password-change"}


@functools.cache
def body_operations() -> list[tuple[str, str, list[str]]]:
    """(method, path, field names) of every API operation that takes a JSON body."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json")
            if method not in ("post", "put", "patch") or body is None:
                continue
            ref = body["schema"].get("$ref", "")
            properties = components.get(ref.rsplit("/", 1)[-1], body["schema"]).get("properties", {})
            found.append((method, path, sorted(properties) or ["detail"]))
    return found


class FormFinder(HTMLParser):
    """The POST forms of a page (action and fields with their shown values) and its links."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self.links: set[str] = set()
        self._form: dict[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.add(a["href"].split("#")[0])
        elif tag == "form" and a.get("method", "get").lower() == "post":
            self._form = {}
            self.forms.append((a.get("action", ""), self._form))
        elif self._form is not None and a.get("name"):
            if tag == "input" and a.get("type") not in ("submit", "button", "file"):
                if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                    self._form.setdefault(a["name"], a.get("value", ""))
            elif tag == "select":
                self._select = a["name"]
                self._form.setdefault(a["name"], "")
            elif tag == "textarea":
                self._textarea = a["name"]
                self._form.setdefault(a["name"], "")
        if tag == "option" and self._select and self._form is not None and not self._form[self._select]:
            self._form[self._select] = a.get("value", "")

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def route_of(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.route


class HostileInputTests(HypothesisTestCase, RoadmapTestCase):
    """As the administrator, who may try every act: refusals are for the values, not the person."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        # One object of the other apps' nouns, so their detail pages (and forms) are reached too.
        cls.charter = Charter.objects.create(
            committee=cls.committee,
            title="Shared speech corpus",
            summary="A speech corpus for public services.",
            lead_organization=cls.orgs.ministry,
            ip_framework=IPFramework.JOINT_POOL,
            created_by=cls.staff,
        )
        ballot = governance.create_ballot(
            cls.public_chair, committee=cls.committee, title="Adopt the calendar", subject_type=SubjectType.MOTION
        )
        cls.ballot = governance.open_ballot(cls.public_chair, ballot)
        cls.meeting = governance.schedule_meeting(
            cls.secretary,
            committee=cls.committee,
            title="Quarterly meeting",
            starts_at=timezone.now() + datetime.timedelta(days=1),
            location="Room 4",
        )

    def existing_id(self, path: str) -> str:
        """A real id for a detail path's {id}, from its list (or 1 when the list is empty)."""
        listing = path.split("{")[0]
        known = self.__dict__.setdefault("_ids", {})
        if listing not in known:
            known[listing] = self._first_id(listing)
        return known[listing]

    def _first_id(self, listing: str) -> str:
        response = self.api(self.admin).get(listing)
        if response.status_code == 200:
            body = response.json()
            rows = body.get("results", []) if isinstance(body, dict) else body
            for row in rows:
                if isinstance(row, dict) and "id" in row:
                    return str(row["id"])
        return "1"

    def assert_refused_cleanly(self, response, before, what):
        assert response.status_code < 500, (what, response.status_code, response.content[:300])
        if response.status_code >= 400:
            assert hostile.row_counts() == before, (what, "a refused request wrote rows")

    def test_the_discovery_finds_the_writes_of_every_app(self):
        paths = {path for _, path, _ in body_operations()}
        for prefix in ("/api/ballots/", "/api/charters/", "/api/credit-requests/", "/api/milestones/"):
            assert any(p.startswith(prefix) for p in paths), prefix

    @SETTINGS
    @given(data=st.data())
    def test_no_api_write_answers_a_hostile_value_with_a_server_error_or_a_partial_write(self, data):
        client = self.api(self.admin)
        for method, path, fields in body_operations():
            url = re.sub(r"\{[^}]+\}", self.existing_id(path), path)
            field = data.draw(st.sampled_from(fields), label=f"{method} {path}")
            value = data.draw(hostile.json_values(), label=field)
            body = json.dumps({field: value})
            with transaction.atomic():
                before = hostile.row_counts()
                response = getattr(client, method)(url, body, content_type="application/json")
                self.assert_refused_cleanly(response, before, (method, url, field, value))
                transaction.set_rollback(True)

    def crawl_forms(self, client: Client, limit: int = 100) -> list[tuple[str, dict[str, str]]]:
        """Every POST form on the pages reachable from the home page, one per route (crawled once
        per test: hypothesis calls the test many times on the same instance)."""
        if "_forms" not in self.__dict__:
            self._forms = self._crawl(client, limit)
        return self._forms

    def _crawl(self, client: Client, limit: int) -> list[tuple[str, dict[str, str]]]:
        pending = ["/", f"/charters/{self.charter.pk}/", f"/ballots/{self.ballot.pk}/", f"/meetings/{self.meeting.pk}/"]
        seen_routes, forms, form_routes = set(), [], set()
        while pending and len(seen_routes) < limit:
            url = pending.pop(0)
            route = route_of(url)
            if route is None or route in seen_routes or url.startswith(("/api/", "/admin/", "/static/")):
                continue
            seen_routes.add(route)
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            finder = FormFinder()
            finder.feed(response.content.decode())
            pending.extend(sorted(finder.links))
            for action, fields in finder.forms:
                target = action or url
                target_route = route_of(target)
                name = resolve(urlsplit(target).path).url_name if target_route is not None else None
                if target_route and target_route not in form_routes and name not in SESSION_ENDING:
                    form_routes.add(target_route)
                    forms.append((target, fields))
        return forms

    def test_the_crawl_reaches_the_forms_of_every_app(self):
        client = Client()
        client.force_login(self.admin)
        targets = [target for target, _ in self.crawl_forms(client)]
        for prefix in ("/ballots/", "/charters/", "/meetings/", "/roadmap/", "/compute/"):
            assert any(t.startswith(prefix) for t in targets), (prefix, targets)

    @SETTINGS
    @given(data=st.data())
    def test_no_form_answers_a_hostile_value_with_a_server_error_or_a_partial_write(self, data):
        client = Client()
        client.force_login(self.admin)
        for target, fields in self.crawl_forms(client):
            editable = sorted(name for name in fields if name != "csrfmiddlewaretoken") or ["x"]
            field = data.draw(st.sampled_from(editable), label=target)
            value = data.draw(hostile.form_values(), label=field)
            with transaction.atomic():
                before = hostile.row_counts()
                response = client.post(target, {**fields, field: value})
                self.assert_refused_cleanly(response, before, (target, field, value))
                transaction.set_rollback(True)
