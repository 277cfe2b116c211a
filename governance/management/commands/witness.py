"""`manage.py witness --sector public|private --listen host:port`: one sector's witness."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from governance.transparency.keys import SECTORS, load_key, log_verifier
from governance.transparency.note import COSIGNATURE_V1, ED25519, NoteError, Verifier
from governance.transparency.witness import Witness, make_server


def default_key_path(sector: str) -> Path:
    """Where a local run keeps a sector's witness key (WITNESS_KEY overrides it)."""
    return Path(os.environ.get("WITNESS_KEY") or Path(settings.VAR_DIR) / f"witness-{sector}.key")


def default_state_path(sector: str) -> Path:
    """Where a local run keeps a sector's witness state (WITNESS_STATE overrides it)."""
    return Path(os.environ.get("WITNESS_STATE") or Path(settings.VAR_DIR) / f"witness-{sector}.json")


def default_name(sector: str) -> str:
    """The witness key's name on a local run."""
    return f"{urlparse(settings.SITE_URL).hostname or 'localhost'}/witness/{sector}"


class Command(BaseCommand):
    help = "Run one sector's witness (C2SP tlog-witness): its own key and state, never the portal's database."

    def add_arguments(self, parser):
        parser.add_argument("--sector", required=True, choices=SECTORS)
        parser.add_argument("--listen", default="127.0.0.1:8101", help="host:port (port 0 picks a free one)")
        parser.add_argument("--pidfile", help="write the process id here while running")
        parser.add_argument("--name", help="the witness key's name when a key is generated")
        parser.add_argument(
            "--log",
            action="append",
            default=[],
            metavar="VKEY",
            help="a log's verifier key to witness (repeatable); default: this portal's own log key",
        )

    def handle(self, *args, **options):
        sector = options["sector"]
        host, _, port = options["listen"].rpartition(":")
        if not host or not port.isdigit():
            raise CommandError("--listen takes host:port")
        try:
            logs = [Verifier.parse(vkey) for vkey in options["log"]] or [log_verifier()]
        except NoteError as error:
            raise CommandError(f"--log: {error}") from error
        if any(log.sig_type != ED25519 for log in logs):
            raise CommandError("--log takes a log's Ed25519 verifier key (type 0x01)")
        signer = load_key(default_key_path(sector), options["name"] or default_name(sector), COSIGNATURE_V1)
        server = make_server(Witness(signer, logs, default_state_path(sector)), host, int(port))
        pidfile = Path(options["pidfile"]) if options["pidfile"] else None
        if pidfile:
            pidfile.write_text(f"{os.getpid()}\n")

        def stop(signum, frame):
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        bound_host, bound_port = server.server_address[:2]
        self.stdout.write(f"witness {sector} listening on http://{bound_host}:{bound_port} key {signer.verifier.vkey}")
        self.stdout.flush()
        try:
            server.serve_forever()
        finally:
            server.server_close()
            if pidfile:
                with contextlib.suppress(FileNotFoundError):
                    pidfile.unlink()
