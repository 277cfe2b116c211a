"""The first run as `make run` does it: the demo's e-mails go to files under var/, the logins
are printed last, and links follow the port the portal is served on."""

from __future__ import annotations

import re
import subprocess
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import SimpleTestCase

MAKEFILE = Path(settings.BASE_DIR) / "Makefile"


class FirstRunTests(SimpleTestCase):
    def test_the_logins_can_be_printed_alone(self):
        out = StringIO()
        call_command("seed_demo", "--logins", stdout=out)
        self.assertIn("Demo logins (password for all:", out.getvalue())
        self.assertIn("uma.auditor", out.getvalue())

    def dry_run(self, *args: str) -> str:
        return subprocess.run(
            ["make", "-n", "run", *args],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def test_make_run_prints_the_logins_after_the_address_and_before_the_processes(self):
        steps = self.dry_run()
        address, logins, processes = (
            steps.index("TGB portal:"),
            steps.index("seed_demo --logins"),
            steps.index("honcho start"),
        )
        self.assertLess(address, logins)
        self.assertLess(logins, processes)
        self.assertIn("seed_demo --if-empty --no-logins", steps)

    def test_links_follow_the_port_and_mail_goes_to_var(self):
        steps = self.dry_run("PORT=8123")
        self.assertIn("TGB portal: http://127.0.0.1:8123/", steps)
        text = MAKEFILE.read_text()
        self.assertRegex(text, re.compile(r"^run: export SITE_URL \?= http://127\.0\.0\.1:\$\(PORT\)$", re.M))
        self.assertRegex(text, re.compile(r"^run: export EMAIL_URL \?= filemail:///\$\(VAR\)/mail$", re.M))
        # Only `make run` gets them: `make test` runs the suite with its own settings (hashed
        # static files without collectstatic would fail every page test).
        self.assertNotRegex(text, re.compile(r"^export ", re.M))
