"""C2SP signed notes, checkpoints and cosignatures (c2sp.org/signed-note, tlog-checkpoint,
tlog-cosignature), with Ed25519 keys in the text forms of Go's `note` package.

Outside verifiers read these byte for byte, so every format here follows the specifications
exactly: key id = SHA-256(name || 0x0A || type || public key)[:4]; a signature line is
"— <name> base64(key id || signature)"; the note text ends in a newline and is separated from
its signatures by the last blank line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
SIGNATURE_TYPES = (ED25519, COSIGNATURE_V1)
EM_DASH = "\u2014"
MAX_SIGNATURES = 100
_NAME = re.compile(r"[^\s+]+")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or does not verify."""


def b64(data: bytes) -> str:
    """Standard base64 (RFC 4648 §4), as every C2SP format uses."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Strict, canonical standard base64: anything else is a malformed note, never a crash.

    Canonical (unused padding bits zero) so that one value has one text, and a receipt or a
    checkpoint changed in any byte no longer verifies.
    """
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise NoteError(f"not base64: {text[:40]!r}") from error
    if b64(data) != text:
        raise NoteError(f"not canonical base64: {text[:40]!r}")
    return data


def key_id(name: str, sig_type: int, public_key: bytes) -> int:
    """The C2SP key id: the first four bytes, big-endian, of SHA-256(name || 0x0A || type || key)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise NoteError(f"a key name must be non-empty, without spaces or '+': {name!r}")
    return name


def _raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A public key that checks one signer's lines: a log (type 0x01) or a witness (type 0x04)."""

    name: str
    sig_type: int
    public_key: bytes

    @property
    def key_id(self) -> int:
        """This key's C2SP key id."""
        return key_id(self.name, self.sig_type, self.public_key)

    @property
    def vkey(self) -> str:
        """The verifier key text, `<name>+<hex id>+<base64(type || key)>`."""
        return f"{self.name}+{self.key_id:08x}+{b64(bytes([self.sig_type]) + self.public_key)}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Read a verifier key; a wrong id, type or length is refused, so a typo cannot pass."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
            raise NoteError(f"not a verifier key: {vkey[:60]!r}")
        name, hex_id, encoded = _check_name(parts[0]), parts[1], unb64(parts[2])
        if len(encoded) != 33 or encoded[0] not in SIGNATURE_TYPES:
            raise NoteError("a verifier key must hold a type byte (0x01 or 0x04) and a 32-byte Ed25519 key")
        verifier = cls(name, encoded[0], encoded[1:])
        if verifier.key_id != int(hex_id, 16):
            raise NoteError(f"the key id of {name} does not match its key")
        return verifier

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether `signature` (without its key id) is this key's over the note text."""
        try:
            public = Ed25519PublicKey.from_public_bytes(self.public_key)
            if self.sig_type == ED25519:
                public.verify(signature, text)
                return len(signature) == 64
            if len(signature) != 72:
                return False
            (timestamp,) = struct.unpack(">Q", signature[:8])
            if timestamp >= 2**63:
                return False
            public.verify(signature[8:], cosignature_message(text, timestamp))
            return True
        except (InvalidSignature, ValueError):
            return False

    def timestamp(self, signature: bytes) -> int | None:
        """The time a cosignature claims, or None for a plain signature."""
        if self.sig_type != COSIGNATURE_V1 or len(signature) < 8:
            return None
        return struct.unpack(">Q", signature[:8])[0]


def cosignature_message(text: bytes, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: its header line, its time line, then the checkpoint text."""
    return b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + text


@dataclass(frozen=True)
class Signer:
    """A private key with its name and type, read from and written as Go's `PRIVATE+KEY+…` text."""

    name: str
    sig_type: int
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    @classmethod
    def generate(cls, name: str, sig_type: int = ED25519) -> Signer:
        """A fresh key, for a log (0x01) or a witness (0x04)."""
        return cls(_check_name(name), sig_type, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, text: str) -> Signer:
        """Read `PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>`, checking the id."""
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not re.fullmatch(r"[0-9a-f]{8}", parts[3]):
            raise NoteError("not a signed-note private key (PRIVATE+KEY+<name>+<id>+<key>)")
        encoded = unb64(parts[4])
        if len(encoded) != 33 or encoded[0] not in SIGNATURE_TYPES:
            raise NoteError("a private key must hold a type byte and a 32-byte Ed25519 seed")
        signer = cls(_check_name(parts[2]), encoded[0], Ed25519PrivateKey.from_private_bytes(encoded[1:]))
        if signer.verifier.key_id != int(parts[3], 16):
            raise NoteError(f"the key id of {signer.name} does not match its key")
        return signer

    @property
    def verifier(self) -> Verifier:
        """The public half, to publish."""
        return Verifier(self.name, self.sig_type, _raw_public(self.private_key))

    @property
    def skey(self) -> str:
        """The private key text, for the key file."""
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id:08x}+{b64(bytes([self.sig_type]) + seed)}"

    def signature_line(self, text: bytes, timestamp: int | None = None) -> str:
        """One signature line over the note text; a cosigner stamps it with `timestamp`."""
        if self.sig_type == ED25519:
            signature = self.private_key.sign(text)
        else:
            if timestamp is None or not 0 <= timestamp < 2**63:
                raise NoteError("a cosignature needs a timestamp in [0, 2**63)")
            signature = struct.pack(">Q", timestamp) + self.private_key.sign(cosignature_message(text, timestamp))
        key = struct.pack(">I", self.verifier.key_id)
        return f"{EM_DASH} {self.name} {b64(key + signature)}\n"


@dataclass(frozen=True)
class SignatureLine:
    """One parsed signature line: who claims to have signed, and the bytes after the key id."""

    name: str
    key_id: int
    signature: bytes

    def text(self) -> str:
        """The line again, exactly as it is written."""
        return f"{EM_DASH} {self.name} {b64(struct.pack('>I', self.key_id) + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    """A note text and the signature lines under it, none of them verified yet."""

    text: str
    signatures: tuple[SignatureLine, ...]

    @classmethod
    def parse(cls, message: str | bytes) -> Note:
        """Split at the last blank line and read each signature line; malformed input is a NoteError."""
        if isinstance(message, bytes):
            try:
                message = message.decode("utf-8")
            except UnicodeDecodeError as error:
                raise NoteError("a note must be UTF-8") from error
        if _CONTROL.search(message):
            raise NoteError("a note must not hold control characters other than newline")
        cut = message.rfind("\n\n")
        if cut < 0 or not message.endswith("\n"):
            raise NoteError("a note is a text, a blank line and signature lines, each ending in a newline")
        text, lines = message[: cut + 1], message[cut + 2 :].splitlines()
        if not lines or len(lines) > MAX_SIGNATURES:
            raise NoteError(f"a note needs between 1 and {MAX_SIGNATURES} signature lines")
        signatures = []
        for line in lines:
            prefix, _, rest = line.partition(" ")
            name, _, encoded = rest.partition(" ")
            if prefix != EM_DASH or not _NAME.fullmatch(name) or not encoded or " " in encoded:
                raise NoteError(f"not a signature line: {line[:60]!r}")
            raw = unb64(encoded)
            if len(raw) < 5:
                raise NoteError("a signature must hold a key id and a signature")
            signatures.append(SignatureLine(name, struct.unpack(">I", raw[:4])[0], raw[4:]))
        return cls(text, tuple(signatures))

    def render(self) -> str:
        """The whole signed note as text."""
        return self.text + "\n" + "".join(line.text() for line in self.signatures)

    def verified_by(self, verifier: Verifier) -> SignatureLine | None:
        """The line of `verifier` if it is there and verifies; a known line that fails is an error.

        C2SP: lines of unknown keys are ignored; a line whose name and id match a known key
        must verify, and if it does not the note is rejected.
        """
        found = None
        for line in self.signatures:
            if line.name == verifier.name and line.key_id == verifier.key_id:
                if not verifier.verify(self.text.encode(), line.signature):
                    raise NoteError(f"the signature of {verifier.name} does not verify")
                found = found or line
        return found

    def with_lines(self, lines: list[SignatureLine]) -> Note:
        """This note with more signature lines, skipping any it already has."""
        have = set(self.signatures)
        return Note(self.text, self.signatures + tuple(line for line in lines if line not in have))


def sign_note(text: str, signer: Signer) -> Note:
    """Sign a note text with the log's key."""
    if not text.endswith("\n") or "\n\n" in text or _CONTROL.search(text):
        raise NoteError("a note text is non-empty lines, each ending in a newline")
    line = Note.parse(text + "\n" + signer.signature_line(text.encode())).signatures[0]
    return Note(text, (line,))


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint body: origin, tree size and root hash (extension lines kept verbatim)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The note text exactly as signed."""
        lines = [self.origin, str(self.size), b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint text; no leading zeroes, a 32-byte root, no empty lines."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise NoteError("a checkpoint is at least three non-empty lines, each ending in a newline")
        origin, size, root = lines[0], lines[1], lines[2]
        if not re.fullmatch(r"0|[1-9][0-9]{0,19}", size):
            raise NoteError(f"not a tree size: {size!r}")
        root_bytes = unb64(root)
        if len(root_bytes) != 32:
            raise NoteError("a checkpoint root is 32 bytes")
        return cls(origin, int(size), root_bytes, tuple(lines[3:-1]))


def open_checkpoint(message: str | bytes, log: Verifier) -> tuple[Note, Checkpoint]:
    """A checkpoint note that the log key signed and whose origin is the log's name."""
    note = Note.parse(message)
    if note.verified_by(log) is None:
        raise NoteError(f"the checkpoint carries no signature of the log key {log.name}")
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != log.name:
        raise NoteError(f"the checkpoint's origin {checkpoint.origin!r} is not the log's name")
    return note, checkpoint
