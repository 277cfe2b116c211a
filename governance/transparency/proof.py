"""Receipts: C2SP tlog-proof@v1 files that show, offline, that an event is in the cosigned log.

A receipt carries the event's commitment in its `extra` line, its leaf index, the inclusion proof
and the cosigned checkpoint. Checking it needs only the log's and the witnesses' public keys; given
the event's content and salt as well, it also shows that this content is what was committed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from governance.transparency import merkle
from governance.transparency.note import Checkpoint, Note, NoteError, Verifier, b64, open_checkpoint, unb64

HEADER = "c2sp.org/tlog-proof@v1"


def canonical_json(event: object) -> bytes:
    """The event's canonical JSON, exactly as DESIGN §3 fixes it for outside verifiers."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def commitment(salt: bytes, event: object) -> bytes:
    """SHA-256(salt || canonical JSON): binds the content while the salt keeps it unguessable."""
    return hashlib.sha256(salt + canonical_json(event)).digest()


@dataclass(frozen=True)
class Receipt:
    """A parsed tlog-proof@v1."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def text(self) -> str:
        """The receipt file's text."""
        lines = [HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(b64(h) for h in self.proof)
        return "\n".join(lines) + "\n\n" + self.checkpoint

    @classmethod
    def parse(cls, text: str) -> Receipt:
        """Read a receipt; anything malformed is a NoteError with the reason."""
        head, sep, checkpoint = text.partition("\n\n")
        if not sep:
            raise NoteError("a receipt is its proof lines, a blank line and the checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise NoteError(f"a receipt starts with {HEADER}")
        lines, extra = lines[1:], None
        if lines and lines[0].startswith("extra "):
            extra = unb64(lines[0][len("extra ") :])
            lines = lines[1:]
        if not lines or not re.fullmatch(r"index (0|[1-9][0-9]{0,19})", lines[0]):
            raise NoteError("a receipt names its index as 'index N'")
        proof = tuple(unb64(line) for line in lines[1:])
        if any(len(h) != merkle.HASH_SIZE for h in proof):
            raise NoteError("each proof line is a 32-byte hash")
        return cls(int(lines[0][len("index ") :]), proof, checkpoint, extra)


@dataclass(frozen=True)
class ReceiptCheck:
    """What checking a receipt found: the checkpoint and which witnesses cosigned it."""

    checkpoint: Checkpoint
    cosigned_by: tuple[str, ...]


def verify_receipt(
    receipt: Receipt,
    log: Verifier,
    witnesses: Mapping[str, Sequence[Verifier]],
    event: object | None = None,
    salt: bytes | None = None,
) -> ReceiptCheck:
    """Check a receipt offline; raise NoteError saying what fails.

    `witnesses` maps each sector to its witnesses' keys: a receipt counts only with a valid
    cosignature of at least one witness of every sector (the body's parity rule).
    """
    note, checkpoint = open_checkpoint(receipt.checkpoint, log)
    cosigned = []
    for sector, keys in witnesses.items():
        names = [key.name for key in keys if note.verified_by(key) is not None]
        if not names:
            raise NoteError(f"no witness of the {sector} sector cosigned the checkpoint")
        cosigned.extend(names)
    if receipt.extra is None or len(receipt.extra) != merkle.HASH_SIZE:
        raise NoteError("the receipt's extra line must carry the 32-byte commitment")
    if event is not None or salt is not None:
        if event is None or salt is None:
            raise NoteError("checking the content needs both the event and its salt")
        if commitment(salt, event) != receipt.extra:
            raise NoteError("the event and salt given do not make the receipt's commitment")
    leaf = merkle.leaf_hash(receipt.extra)
    if not merkle.verify_inclusion(receipt.index, checkpoint.size, leaf, receipt.proof, checkpoint.root):
        raise NoteError(f"the inclusion proof does not place the commitment at index {receipt.index}")
    return ReceiptCheck(checkpoint, tuple(cosigned))


def build_receipt(index: int, entry: bytes, proof: Sequence[bytes], cosigned: Note) -> Receipt:
    """A receipt for the leaf `entry` (the commitment) at `index` under a cosigned checkpoint."""
    return Receipt(index=index, proof=tuple(proof), checkpoint=cosigned.render(), extra=entry)
