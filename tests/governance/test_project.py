"""Project-level promises: production settings pass Django's deploy checks, the API docs work
offline, errors are JSON, static files are served locally."""

import os
import re
import subprocess
import sys

from django.conf import settings
from django.test import TestCase

from tests.base import PortalTestCase

PRODUCTION_ENV = {
    "DEBUG": "0",
    "HTTPS": "1",
    "SECRET_KEY": "x" * 20 + "-production-secret-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "tgb.example.org",
}


class DeploySettingsTests(TestCase):
    def test_production_settings_pass_the_deploy_checks(self):
        env = {**os.environ, **PRODUCTION_ENV}
        result = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("no issues", result.stdout)

    def test_debug_is_off_unless_asked_for(self):
        env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','governance.settings');"
                "django.setup();from django.conf import settings;print(settings.DEBUG)",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        self.assertEqual(result.stdout.strip(), "False", result.stderr)


class OfflineDocsTests(PortalTestCase):
    def test_the_schema_describes_the_contract(self):
        self.client.force_login(self.public_member)
        response = self.client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        self.assertEqual(response.status_code, 200)
        paths = response.json()["paths"]
        for path in (
            "/api/organizations/",
            "/api/committees/",
            "/api/memberships/",
            "/api/users/",
            "/api/audit-events/verify/",
            "/api/auth/token/",
        ):
            self.assertIn(path, paths)

    def test_the_docs_page_loads_its_assets_from_this_server_only(self):
        self.client.force_login(self.public_member)
        html = self.client.get("/api/docs/").content.decode()
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        self.assertTrue(assets)
        for asset in assets:
            self.assertFalse(asset.startswith(("http://", "https://", "//")), asset)
        for asset in assets:
            if asset.startswith("/static/"):
                response = self.client.get(asset)
                self.assertEqual(response.status_code, 200, asset)

    def test_static_files_are_served_without_debug(self):
        response = self.client.get("/static/css/portal.css")
        self.assertEqual(response.status_code, 200)
        response = self.client.get("/static/vendor/plotly-basic/plotly-basic.min.js")
        self.assertEqual(response.status_code, 200)

    def test_an_unknown_api_path_is_a_json_404(self):
        self.client.force_login(self.public_member)
        response = self.client.get("/api/no-such-thing/")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json()["code"], "not_found")


class BeatScheduleTests(TestCase):
    def test_every_scheduled_task_is_a_registered_task(self):
        from governance.celery import app

        app.loader.import_default_modules()
        scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        self.assertEqual(scheduled - set(app.tasks), set(), "beat would send tasks no worker knows")
        # The sweep that charges usage whose posting failed at collection time.
        self.assertIn("compute.tasks.post_pending_usage", scheduled)
