"""Generic API checks that every resource gets from data alone (after NetBox's API test mixins).

A test class names its `url`, how to make an object, a valid create payload, who may read and
who may write; the mixin then checks anonymous access, refused writes, permitted writes, a
detail view that matches the list, and that listing costs the same number of queries
whatever the number of rows.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext


class APIResourceChecks:
    url: str  # e.g. "/api/organizations/"
    allowed_reader: str = "public_member"  # persona attribute names
    refused_writer: str = "public_member"
    allowed_writer: str = "admin"
    read_only: bool = False

    def make_object(self, n: int):
        """Create one more object of this resource (n makes it unique)."""
        raise NotImplementedError

    def create_payload(self) -> dict:
        raise NotImplementedError

    def update_payload(self) -> dict:
        return {}

    def persona(self, name: str):
        return getattr(self, name)

    def test_anonymous_callers_are_asked_to_authenticate(self):
        self.assertEqual(self.api().get(self.url).status_code, 401)
        self.assertEqual(self.api().post(self.url, {}, format="json").status_code, 401)

    def test_a_reader_lists_and_reads_the_same_objects(self):
        obj = self.make_object(1)
        client = self.api(self.persona(self.allowed_reader))
        listed = client.get(self.url)
        self.assertEqual(listed.status_code, 200)
        self.assertIn(obj.pk, [row["id"] for row in listed.json()["results"]])
        detail = client.get(f"{self.url}{obj.pk}/")
        self.assertEqual(detail.status_code, 200)
        self.assertEqual(detail.json()["id"], obj.pk)

    def test_an_unknown_object_is_a_json_404(self):
        response = self.api(self.persona(self.allowed_reader)).get(f"{self.url}999999/")
        self.assertEqual(response.status_code, 404)
        self.assertIn("detail", response.json())

    def test_a_caller_without_the_right_cannot_create_or_change(self):
        if self.read_only:
            return
        client = self.api(self.persona(self.refused_writer))
        response = client.post(self.url, self.create_payload(), format="json")
        self.assertEqual(response.status_code, 403, response.content)
        self.assertTrue(response.json()["detail"])
        obj = self.make_object(2)
        # What the caller cannot see does not exist for them (404); what they see they may not change (403).
        expected = 403 if client.get(f"{self.url}{obj.pk}/").status_code == 200 else 404
        response = client.patch(f"{self.url}{obj.pk}/", self.update_payload(), format="json")
        self.assertEqual(response.status_code, expected, response.content)

    def test_a_caller_with_the_right_creates_and_changes(self):
        if self.read_only:
            return
        client = self.api(self.persona(self.allowed_writer))
        response = client.post(self.url, self.create_payload(), format="json")
        self.assertEqual(response.status_code, 201, response.content)
        created = response.json()["id"]
        if self.update_payload():
            response = client.patch(f"{self.url}{created}/", self.update_payload(), format="json")
            self.assertEqual(response.status_code, 200, response.content)
            for key, value in self.update_payload().items():
                self.assertEqual(response.json()[key], value)

    def test_nothing_is_deleted_through_the_api(self):
        obj = self.make_object(3)
        response = self.api(self.admin).delete(f"{self.url}{obj.pk}/")
        self.assertEqual(response.status_code, 405)

    def test_listing_costs_the_same_queries_for_few_and_many_rows(self):
        client = self.api(self.persona(self.allowed_reader))
        client.get(self.url)  # warm caches (content types, permissions)
        with CaptureQueriesContext(connection) as few:
            self.assertEqual(client.get(self.url).status_code, 200)
        for n in range(10, 25):
            self.make_object(n)
        with self.assertNumQueries(len(few)):
            self.assertEqual(client.get(self.url).status_code, 200)
