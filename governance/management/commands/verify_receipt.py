"""`manage.py verify_receipt FILE`: check a receipt offline against the log's and witnesses' keys."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.transparency.keys import SECTORS, log_verifier, witness_policy
from governance.transparency.note import NoteError, Verifier, unb64
from governance.transparency.proof import Receipt, verify_receipt


def read_keys(path: Path) -> tuple[Verifier, dict[str, list[Verifier]]]:
    """A keys file as /transparency/keys serves it: `log <vkey>` and `witness <sector> <vkey>`."""
    log, policy = None, {sector: [] for sector in SECTORS}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            if parts[0] == "log" and len(parts) == 2:
                log = Verifier.parse(parts[1])
            elif parts[0] == "witness" and len(parts) == 3 and parts[1] in SECTORS:
                policy[parts[1]].append(Verifier.parse(parts[2]))
            else:
                raise NoteError("expected 'log <vkey>' or 'witness <sector> <vkey>'")
        except NoteError as error:
            raise CommandError(f"{path}:{number}: {error}") from error
    if log is None:
        raise CommandError(f"{path} names no log key")
    return log, policy


class Command(BaseCommand):
    help = "Check a tlog-proof@v1 receipt offline; exit 0 when it verifies, 1 otherwise."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the receipt (.tlog-proof)")
        parser.add_argument("--keys", help="a keys file as /transparency/keys serves it (default: this portal's)")
        parser.add_argument("--event", help="a JSON file with the event, as /transparency/entries gives it")
        parser.add_argument("--salt", help="the event's salt, base64")

    def handle(self, *args, **options):
        try:
            text = Path(options["file"]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read the receipt: {error}") from error
        if options["keys"]:
            log, policy = read_keys(Path(options["keys"]))
        else:
            log, policy = log_verifier(), witness_policy()
        event = salt = None
        try:
            if options["event"]:
                event = json.loads(Path(options["event"]).read_text(encoding="utf-8"))
            if options["salt"]:
                salt = unb64(options["salt"])
            check = verify_receipt(Receipt.parse(text), log, policy, event=event, salt=salt)
        except (NoteError, OSError, ValueError) as error:
            raise CommandError(f"The receipt does not verify: {error}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Receipt verified: leaf {Receipt.parse(text).index} of {check.checkpoint.origin} at size "
                f"{check.checkpoint.size}, cosigned by {', '.join(check.cosigned_by)}"
                + ("; the event and salt match its commitment." if event is not None else ".")
            )
        )
