"""Where the log's and the witnesses' keys come from: files named by the environment, never the
database, so whoever hosts the database cannot sign in the log's name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from governance.local_files import write_once
from governance.transparency.note import COSIGNATURE_V1, ED25519, NoteError, Signer, Verifier

SECTORS = ("public", "private")


def log_origin() -> str:
    """The checkpoints' origin line: LOG_ORIGIN, or the host of SITE_URL followed by /audit."""
    return settings.LOG_ORIGIN or f"{urlparse(settings.SITE_URL).netloc}/audit"


def load_key(path: str | Path, name: str, sig_type: int) -> Signer:
    """Read a private key file; on a local run (a path inside var/) create it when absent.

    A key outside var/ that is missing is a configuration error, not something to invent:
    a production log or witness must keep the key it has published.
    """
    path = Path(path)
    if not path.exists():
        if Path(settings.VAR_DIR).resolve() not in path.resolve().parents:
            raise ImproperlyConfigured(f"The key file {path} does not exist.")
        write_once(path, Signer.generate(name, sig_type).skey + "\n")
    try:
        signer = Signer.parse(path.read_text())
    except NoteError as error:
        raise ImproperlyConfigured(f"{path}: {error}") from error
    if signer.sig_type != sig_type:
        raise ImproperlyConfigured(f"{path} holds a key of type {signer.sig_type:#04x}, not {sig_type:#04x}.")
    return signer


def log_signer() -> Signer:
    """The log's signing key (LOG_SIGNING_KEY), whose name must be the origin line."""
    signer = load_key(settings.LOG_SIGNING_KEY, log_origin(), ED25519)
    if signer.name != log_origin():
        raise ImproperlyConfigured(f"The log key is named {signer.name!r}, but the log's origin is {log_origin()!r}.")
    return signer


def log_verifier() -> Verifier:
    """The log's public key."""
    return log_signer().verifier


@dataclass(frozen=True)
class Witness:
    """One line of the LOG_WITNESSES file: a sector's witness, where it listens and its key."""

    sector: str
    url: str
    verifier: Verifier


def witnesses() -> list[Witness]:
    """The witnesses the log pushes to, from the file LOG_WITNESSES names (none when unset)."""
    if not settings.LOG_WITNESSES:
        return []
    found = []
    for number, raw in enumerate(Path(settings.LOG_WITNESSES).read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 4 or parts[0] != "witness" or parts[1] not in SECTORS:
            raise ImproperlyConfigured(f"{settings.LOG_WITNESSES}:{number}: expected 'witness <sector> <url> <vkey>'.")
        try:
            verifier = Verifier.parse(parts[3])
        except NoteError as error:
            raise ImproperlyConfigured(f"{settings.LOG_WITNESSES}:{number}: {error}") from error
        if verifier.sig_type != COSIGNATURE_V1:
            raise ImproperlyConfigured(f"{settings.LOG_WITNESSES}:{number}: a witness key has type 0x04.")
        found.append(Witness(parts[1], parts[2].rstrip("/"), verifier))
    return found


def witness_policy(configured: list[Witness] | None = None) -> dict[str, list[Verifier]]:
    """Each sector's witness keys: a checkpoint counts once a witness of every sector cosigned it."""
    configured = witnesses() if configured is None else configured
    return {sector: [w.verifier for w in configured if w.sector == sector] for sector in SECTORS}
