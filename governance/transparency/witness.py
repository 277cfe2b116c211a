"""A witness (C2SP tlog-witness): cosigns a log's checkpoint only when it is consistent with the
last one this witness cosigned, so that no one can show two histories, or a shortened one, with
its cosignature.

Each sector runs one, on its own host, with its own key and its own state file; it never reads
the portal's database. The state is written (to a temporary file, fsynced, then renamed over the
old one) before the cosignature is sent, and the check and the write happen under one lock, so a
slower request can never roll the recorded size back.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from governance.transparency import merkle
from governance.transparency.note import Checkpoint, Note, NoteError, Signer, Verifier, b64, unb64

logger = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
MAX_PROOF_LINES = 63
SIZE_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, content type and text."""

    status: int
    text: str
    content_type: str = "text/plain; charset=utf-8"


class WitnessState:
    """The newest cosigned checkpoint of each log, kept in one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.logs: dict[str, dict] = json.loads(self.path.read_text())["logs"] if self.path.exists() else {}

    def get(self, origin: str) -> tuple[int, bytes, str]:
        """The size, root and cosigned note last recorded for a log (0, empty root, "" if none)."""
        entry = self.logs.get(origin)
        if entry is None:
            return 0, merkle.empty_root(), ""
        return entry["size"], unb64(entry["root"]), entry["note"]

    def put(self, origin: str, size: int, root: bytes, note: str) -> None:
        """Record a log's new checkpoint durably before anyone is told of it."""
        logs = {**self.logs, origin: {"size": size, "root": b64(root), "note": note}}
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("w") as file:
            json.dump({"logs": logs}, file, indent=1, sort_keys=True)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self.logs = logs


class Witness:
    """The add-checkpoint logic, apart from HTTP so that it reads as the specification does."""

    def __init__(self, signer: Signer, logs: list[Verifier], state_path: Path) -> None:
        self.signer = signer
        self.logs = {log.name: log for log in logs}
        self.state = WitnessState(state_path)
        self.lock = threading.Lock()

    def add_checkpoint(self, body: bytes) -> Answer:
        """C2SP tlog-witness add-checkpoint: old size, consistency proof, blank line, checkpoint."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return Answer(400, "the request is not UTF-8\n")
        head, sep, message = text.partition("\n\n")
        lines = head.split("\n")
        match = re.fullmatch(r"old (0|[1-9][0-9]{0,19})", lines[0])
        if not sep or match is None:
            return Answer(400, "the request starts with 'old <size>', proof lines, then a blank line\n")
        if len(lines) - 1 > MAX_PROOF_LINES:
            return Answer(400, f"at most {MAX_PROOF_LINES} proof lines\n")
        try:
            proof = [unb64(line) for line in lines[1:]]
            note = Note.parse(message)
            checkpoint = Checkpoint.parse(note.text)
        except NoteError as error:
            return Answer(400, f"{error}\n")
        if any(len(h) != merkle.HASH_SIZE for h in proof):
            return Answer(400, "each proof line is a 32-byte hash\n")
        log = self.logs.get(checkpoint.origin)
        if log is None:
            return Answer(404, f"unknown log {checkpoint.origin}\n")
        try:
            signed = note.verified_by(log)
        except NoteError as error:
            return Answer(403, f"{error}\n")
        if signed is None:
            return Answer(403, "the checkpoint carries no signature of the log's key\n")
        old = int(match.group(1))
        if old > checkpoint.size:
            return Answer(400, "the old size is larger than the checkpoint's\n")
        with self.lock:
            size, root, _ = self.state.get(checkpoint.origin)
            if old != size:
                return Answer(409, f"{size}\n", SIZE_TYPE)
            if old == checkpoint.size and (old or proof):
                if proof or root != checkpoint.root:
                    return Answer(409, f"{size}\n", SIZE_TYPE)
            elif old == 0:
                if proof:
                    return Answer(422, "a proof from size 0 is empty\n")
            elif not merkle.verify_consistency(old, checkpoint.size, root, checkpoint.root, proof):
                logger.warning("Inconsistent checkpoint of %s at %s: %r", checkpoint.origin, checkpoint.size, message)
                return Answer(422, "the consistency proof does not verify\n")
            line = self.signer.signature_line(note.text.encode(), int(time.time()))
            self.state.put(checkpoint.origin, checkpoint.size, checkpoint.root, note.text + "\n" + signed.text() + line)
        return Answer(200, line)

    def latest(self, origin: str) -> Answer:
        """The newest checkpoint of a log this witness cosigned, with its cosignature (monitors)."""
        with self.lock:
            _, _, note = self.state.get(origin)
        if not note:
            return Answer(404, f"no checkpoint of {origin} cosigned\n")
        return Answer(200, note)


def make_server(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server for the witness: POST /add-checkpoint and GET /latest?origin=…"""

    class Handler(BaseHTTPRequestHandler):
        """Keep-alive HTTP/1.1; every answer has a length, a type and no caching."""

        protocol_version = "HTTP/1.1"
        server_version = "tgb-witness"

        def _answer(self, answer: Answer) -> None:
            data = answer.text.encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            """add-checkpoint, with the body's size bounded before it is read."""
            if urlsplit(self.path).path != "/add-checkpoint":
                self._answer(Answer(404, "not found\n"))
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._answer(Answer(411, "a Content-Length is needed\n"))
                return
            if not 0 <= length <= MAX_BODY:
                self._answer(Answer(413, f"at most {MAX_BODY} bytes\n"))
                return
            self._answer(witness.add_checkpoint(self.rfile.read(length)))

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            """The newest cosigned checkpoint of a log, for monitors and verify_audit_log."""
            url = urlsplit(self.path)
            origins = parse_qs(url.query).get("origin", [])
            if url.path != "/latest" or len(origins) != 1:
                self._answer(Answer(404, "GET /latest?origin=<origin>\n"))
                return
            self._answer(witness.latest(origins[0]))

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
            logger.info("%s %s", self.address_string(), format % args)

    return ThreadingHTTPServer((host, port), Handler)
