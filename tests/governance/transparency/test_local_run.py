"""The whole loop as `make run` starts it: web, worker, beat and one witness per sector under
honcho, from a fresh var/ directory, ends in a checkpoint both witnesses cosigned."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import requests
from django.conf import settings
from django.test import SimpleTestCase

from tests.processes import Process, free_port, manage, wait_for

MAKE_AN_EVENT = (
    "from governance import services; from governance.choices import Sector; from governance.models import User; "
    "admin = User.objects.create_superuser('root', 'root@example.org', 'a-long-local-password'); "
    "services.create_organization(admin, name='Local Run Ministry', sector=Sector.PUBLIC)"
)


class LocalRunTests(SimpleTestCase):
    def test_a_fresh_local_run_publishes_a_checkpoint_both_witnesses_cosigned(self):
        var = Path(tempfile.mkdtemp(prefix="tgb-local-run-"))
        ports = {"PORT": free_port(), "WITNESS_PUBLIC_PORT": free_port(), "WITNESS_PRIVATE_PORT": free_port()}
        env = {
            "TGB_VAR_DIR": str(var),
            "LOG_WITNESSES": str(var / "witnesses"),
            # Its own SQLite and filesystem broker, whatever database and broker the suite uses.
            "DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}",
            "REDIS_URL": "",
            "SITE_URL": "http://127.0.0.1:8000",
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            **{name: str(port) for name, port in ports.items()},
        }
        for args in (("migrate", "--noinput", "-v0"), ("local_witnesses",), ("shell", "-c", MAKE_AN_EVENT)):
            step = Process("setup", manage(*args), env=env).start()
            step.proc.wait(240)
            self.assertEqual(step.proc.returncode, 0, step.output())
        honcho = Process("honcho", [sys.executable, "-m", "honcho", "start", "-f", "Procfile"], env=env).start()
        self.addCleanup(honcho.stop)
        url = f"http://127.0.0.1:{ports['PORT']}/transparency/checkpoint"

        def cosigned() -> bool:
            try:
                response = requests.get(url, timeout=5)
            except requests.ConnectionError:
                return False
            return response.status_code == 200

        wait_for(cosigned, 120, "a checkpoint cosigned by both witnesses", interval=1)
        text = requests.get(url, timeout=5).text
        self.assertEqual(text.count("\u2014 "), 3, text)
        self.assertTrue(text.startswith("127.0.0.1:8000/audit\n1\n"), text)
        self.assertTrue(Path(settings.BASE_DIR, "Procfile").read_text().count("manage.py witness") == 2)
