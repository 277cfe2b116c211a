"""`manage.py local_witnesses`: the two witnesses of a local run, so a fresh `make run` shows the
whole loop (integrate, sign, cosign by both sectors) with no configuration."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from governance.management.commands.witness import default_key_path, default_name
from governance.transparency.keys import SECTORS, load_key
from governance.transparency.note import COSIGNATURE_V1

# The Procfile starts the witnesses on these ports (WITNESS_PUBLIC_PORT, WITNESS_PRIVATE_PORT).
DEFAULT_PORTS = {"public": 8101, "private": 8102}


class Command(BaseCommand):
    help = "Create the local witnesses' keys in var/ and the LOG_WITNESSES file naming them."

    def handle(self, *args, **options):
        path = Path(settings.VAR_DIR) / "witnesses"
        lines = []
        for sector in SECTORS:
            key = load_key(default_key_path(sector), default_name(sector), COSIGNATURE_V1)
            port = os.environ.get(f"WITNESS_{sector.upper()}_PORT") or DEFAULT_PORTS[sector]
            lines.append(f"witness {sector} http://127.0.0.1:{port} {key.verifier.vkey}\n")
        path.write_text("".join(lines))
        self.stdout.write(str(path))
