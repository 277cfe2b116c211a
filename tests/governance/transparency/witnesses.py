"""Real witness processes for the tests: `manage.py witness` on a free port, own key and state."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests
from django.test import override_settings

from governance.transparency.keys import log_verifier
from governance.transparency.note import COSIGNATURE_V1, Signer
from tests.base import PortalTestCase
from tests.processes import Process, manage, wait_for


@dataclass
class RunningWitness:
    sector: str
    process: Process
    url: str
    vkey: str
    state: Path

    def line(self) -> str:
        """This witness's line of a LOG_WITNESSES file."""
        return f"witness {self.sector} {self.url} {self.vkey}\n"


def start_witness(sector: str, directory: Path) -> RunningWitness:
    """Start one sector's witness with its key and state in `directory`; wait until it listens."""
    state, key = directory / f"{sector}.json", directory / f"{sector}.key"
    if not key.exists():
        # Outside var/ the command never invents a key: the sector's operator makes one.
        key.write_text(Signer.generate(f"witness.{sector}.example", COSIGNATURE_V1).skey + "\n")
    process = Process(
        f"witness-{sector}",
        manage("witness", "--sector", sector, "--listen", "127.0.0.1:0", "--log", log_verifier().vkey),
        env={"WITNESS_KEY": str(key), "WITNESS_STATE": str(state)},
    ).start()
    found: dict[str, str] = {}

    def listening() -> bool:
        if process.proc.poll() is not None:
            raise AssertionError(f"the {sector} witness exited: {process.output()}")
        match = re.search(r"listening on (\S+) key (\S+)", process.log.read_text())
        if match:
            found.update(url=match.group(1), vkey=match.group(2))
        return bool(match)

    wait_for(listening, 60, f"the {sector} witness to listen")
    return RunningWitness(sector, process, found["url"], found["vkey"], state)


class WitnessedLogCase(PortalTestCase):
    """The body's log with a real witness process per sector, listed in a LOG_WITNESSES file."""

    def setUp(self):
        super().setUp()
        # Fresh witnesses for each test: the database rolls back between tests, their state would not.
        directory = Path(tempfile.mkdtemp(prefix="tgb-witnesses-"))
        self.directory = directory
        self.public = start_witness("public", directory)
        self.addCleanup(lambda: self.public.process.stop())
        self.private = start_witness("private", directory)
        self.addCleanup(lambda: self.private.process.stop())
        self.witness_file = directory / "witnesses"
        self.witness_file.write_text(self.public.line() + self.private.line())
        override = override_settings(LOG_WITNESSES=str(self.witness_file))
        override.enable()
        self.addCleanup(override.disable)

    def add(self, witness, body: str) -> requests.Response:
        return requests.post(f"{witness.url}/add-checkpoint", data=body.encode(), timeout=10)
