"""The portal's PostgreSQL connections are cut, as a server restart cuts them: the next request
is served on a new connection, not answered with an error page.

The portal runs as in production (gunicorn, one synchronous worker, persistent connections
with CONN_MAX_AGE). The test does not restart the shared PostgreSQL server other suites use;
it terminates the portal's server processes with pg_terminate_backend, which is what a
restart does to every client, and checks that the portal really was holding that connection
across requests before it was cut.
"""

from __future__ import annotations

import shutil
import sys
import tempfile

import pytest
import requests
from django.db import connection
from django.test import TransactionTestCase

from governance.models import Organization, User
from governance.services import tokens
from tests.processes import Process, free_port, port_open, portal_env, wait_for

pytestmark = [pytest.mark.postgres]

APPLICATION_NAME = "tgb-reconnect-web"


class DatabaseReconnectTests(TransactionTestCase):
    def setUp(self):
        admin = User.objects.create_superuser("admin", "admin@example.org", "irrelevant-here")  # noqa: S106
        self.headers = {"Authorization": f"Token {tokens.issue_token(admin)[0]}"}
        port = free_port()
        self.api = f"http://127.0.0.1:{port}/api"
        env = portal_env(connection.settings_dict["NAME"], "", CONN_MAX_AGE="600")
        env["DATABASE_URL"] += f"?application_name={APPLICATION_NAME}"
        env["TGB_VAR_DIR"] = tempfile.mkdtemp(prefix="tgb-var-")
        gunicorn = shutil.which("gunicorn", path=str(sys.prefix) + "/bin") or "gunicorn"
        self.web = Process(
            "web",
            [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "1", "governance.wsgi"],
            env,
        ).start()
        try:
            wait_for(lambda: port_open(port), 60, "the portal")
        except AssertionError:
            self.web.stop()
            raise AssertionError(f"The portal did not start:\n{self.web.output()}") from None

    def tearDown(self):
        self.web.stop()

    def portal_backends(self) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
                [APPLICATION_NAME],
            )
            return sorted(row[0] for row in cursor.fetchall())

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.api}{path}", headers=self.headers, timeout=30)

    def test_the_portal_serves_the_next_request_after_its_connection_is_cut(self):
        try:
            self.assertEqual(self.get("/organizations/").status_code, 200)
            before = self.portal_backends()
            self.assertEqual(len(before), 1)
            self.assertEqual(self.get("/committees/").status_code, 200)
            self.assertEqual(self.portal_backends(), before, "the connection is kept between requests")

            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", before)
            wait_for(lambda: not self.portal_backends(), 10, "the portal's connection to be cut")

            # A write first: it must land on a new connection, and stay written.
            created = requests.post(
                f"{self.api}/organizations/",
                json={"name": "After the restart", "sector": "public"},
                headers=self.headers,
                timeout=30,
            )
            self.assertEqual(created.status_code, 201, created.text)
            self.assertTrue(Organization.objects.filter(name="After the restart").exists())
            listed = self.get("/organizations/")
            self.assertEqual(listed.status_code, 200)
            self.assertIn("After the restart", [row["name"] for row in listed.json()["results"]])
            after = self.portal_backends()
            self.assertEqual(len(after), 1)
            self.assertNotEqual(after, before)
        except AssertionError:
            print(f"--- web\n{self.web.output()}")
            raise
