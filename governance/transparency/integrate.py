"""The integrator: gives committed events their leaf index in batches, extends the tree, signs a
checkpoint, and pushes it to the witnesses for their cosignatures.

Only one integration runs at a time (it claims the one LogState row with SELECT … FOR UPDATE;
SQLite's IMMEDIATE transactions serialize it the same way), and writers never wait for it: an
event waits with a NULL leaf_index until the next run, started on commit and by beat.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction
from django.db.models import Case, Max, Value, When

from governance.choices import WitnessAnswer
from governance.models import AuditEvent, Cosignature, LogCheckpoint, LogNode, LogState
from governance.transparency import merkle, tree
from governance.transparency.keys import SECTORS, Witness, log_signer, witness_policy, witnesses
from governance.transparency.note import Checkpoint, Note, NoteError, open_checkpoint, sign_note

logger = logging.getLogger(__name__)


class LogInconsistent(Exception):
    """The stored tree does not extend the last checkpoint the log signed: it will sign nothing."""


class WitnessUnavailable(ConnectionError):
    """A witness could not be reached or failed; the push is retried with backoff."""


def integrate_after_commit() -> None:
    """Ask for an integration once the current transaction commits (once per transaction).

    In eager mode (tests, benchmarks) nothing is sent: the integrator would run inside every
    writer's commit and serialize them, which is what the log is built to avoid; tests and beat
    drive it instead.
    """
    from governance.celery import app

    if app.conf.task_always_eager:
        return
    if any(entry[1] is _send_integrate for entry in connection.run_on_commit):
        return
    transaction.on_commit(_send_integrate)


# While one integration (or push) is waiting in the queue, commits do not ask for another: the
# one waiting will take their events too. The task releases its key as it starts; the timeout
# (and beat's schedule) cover a key lost with a worker.
QUEUED = {"integrate": "log:integrate-queued", "push": "log:push-queued"}


def send_once(name: str) -> None:
    """Enqueue the log's `name` task ("integrate" or "push") unless one is already waiting."""
    from governance.transparency import tasks

    task = tasks.integrate_log if name == "integrate" else tasks.push_checkpoint
    try:
        if not cache.add(QUEUED[name], 1, timeout=30):
            return
        task.apply_async(retry=False)
    except Exception as error:  # noqa: BLE001 - Redis or the broker away: beat's next run does it
        _forget(name)
        logger.warning("Could not enqueue the log's %s task (beat will): %s", name, error)


def started(name: str) -> None:
    """A task of the log starts: commits from now on ask for the next one."""
    _forget(name)


def _forget(name: str) -> None:
    try:
        cache.delete(QUEUED[name])
    except Exception as error:  # noqa: BLE001 - the key expires by itself
        logger.warning("Could not clear the log's %s key: %s", name, error)


def _send_integrate() -> None:
    send_once("integrate")


def _claim_state() -> LogState:
    LogState.objects.get_or_create(pk=1, defaults={"size": 0, "root": merkle.empty_root()})
    return LogState.objects.select_for_update().get(pk=1)


def _nothing_to_do(signer) -> bool:
    if AuditEvent.objects.filter(leaf_index__isnull=True).exists():
        return False
    state = LogState.objects.filter(pk=1).first()
    previous = _last_signed(signer)
    return state is not None and previous is not None and previous.size == state.size


def _last_signed(signer) -> Checkpoint | None:
    """The newest checkpoint the log signed, as its signature says (not as columns say)."""
    latest = LogCheckpoint.objects.order_by("-size").first()
    if latest is None:
        return None
    try:
        return open_checkpoint(latest.note, signer.verifier)[1]
    except NoteError as error:
        raise LogInconsistent(f"the stored checkpoint at size {latest.size} is not the log's: {error}") from error


def integrate(batch_size: int | None = None) -> int:
    """Integrate every event waiting, in batches; returns how many were integrated."""
    batch_size = batch_size or settings.LOG_BATCH_SIZE
    total = 0
    while True:
        done = integrate_batch(batch_size)
        total += done
        if done < batch_size:
            return total


def integrate_batch(limit: int) -> int:
    """One batch in one transaction: leaf indices, nodes, a signed checkpoint; then push it."""
    signer = log_signer()
    if _nothing_to_do(signer):
        # Beat asks every 2 s: a look without the lock, so an idle log writes nothing (a row
        # lock is a write, and every write renders the kept pages afresh). An event that
        # arrives just after is integrated by its own commit's task or the next tick.
        return 0
    with transaction.atomic():
        state = _claim_state()
        pending = list(
            AuditEvent.objects.filter(leaf_index__isnull=True).order_by("id").values_list("id", "commitment")[:limit]
        )
        previous = _last_signed(signer)
        if not pending and previous is not None and previous.size == state.size:
            return 0
        old = state.size
        leaves = [merkle.leaf_hash(bytes(value)) for _, value in pending]
        made = tree.read(lambda node: merkle.new_nodes(old, leaves, node))
        size = old + len(leaves)
        new_root = tree.read(lambda node: merkle.root(node, size), made)
        if previous is not None:
            if previous.size > size:
                raise LogInconsistent(f"the tree has {size} leaves but the log signed {previous.size}")
            proof = tree.read(lambda node: merkle.consistency_proof(node, previous.size, size), made)
            if not merkle.verify_consistency(previous.size, size, previous.root, new_root, proof):
                raise LogInconsistent(f"the tree at {size} does not extend the checkpoint at {previous.size}")
        LogNode.objects.bulk_create([LogNode(level=lvl, index=idx, hash=h) for (lvl, idx), h in made.items()])
        for start in range(0, len(pending), 500):
            chunk = pending[start : start + 500]
            # models.QuerySet.update: the one update the append-only triggers allow (NULL → index).
            models.QuerySet.update(
                AuditEvent.objects.filter(pk__in=[pk for pk, _ in chunk]),
                leaf_index=Case(*(When(pk=pk, then=Value(old + start + i)) for i, (pk, _) in enumerate(chunk))),
            )
        note = sign_note(Checkpoint(signer.name, size, new_root).text(), signer)
        LogCheckpoint.objects.update_or_create(size=size, defaults={"root": new_root, "note": note.render()})
        LogState.objects.filter(pk=1).update(size=size, root=new_root)
        if witnesses():
            transaction.on_commit(_send_push)
    return len(pending)


def _send_push() -> None:
    send_once("push")


@dataclass(frozen=True)
class PushResult:
    """What one witness said to one checkpoint."""

    witness: str
    status: WitnessAnswer
    detail: str = ""


def _add_checkpoint(witness: Witness, old: int, checkpoint: LogCheckpoint) -> requests.Response:
    proof = tree.consistency_proof(old, checkpoint.size) if old else []
    body = f"old {old}\n" + "".join(f"{merkle_b64(h)}\n" for h in proof) + "\n" + checkpoint.note
    return requests.post(
        f"{witness.url}/add-checkpoint", data=body.encode(), timeout=settings.LOG_WITNESS_TIMEOUT, allow_redirects=False
    )


def merkle_b64(value: bytes) -> str:
    """Base64 of a hash, as the witness protocol writes proof lines."""
    from governance.transparency.note import b64

    return b64(value)


def push_to_witness(witness: Witness, checkpoint: LogCheckpoint) -> PushResult:
    """Ask one witness to cosign `checkpoint`, from the last size it cosigned; store its line.

    A 409 tells the witness's size: the push is retried once from there. A witness ahead of the
    log (the log was rewound) or one that refuses the proof is reported, never argued with.
    """
    if checkpoint.cosignatures.filter(witness=witness.verifier.name).exists():
        return PushResult(witness.verifier.name, WitnessAnswer.ALREADY)
    known = Cosignature.objects.filter(witness=witness.verifier.name, checkpoint__size__lte=checkpoint.size)
    old = known.aggregate(size=Max("checkpoint__size"))["size"] or 0
    try:
        response = _add_checkpoint(witness, old, checkpoint)
        if response.status_code == 409 and response.headers.get("Content-Type", "").startswith("text/x.tlog.size"):
            their_size = int(response.text.strip())
            if their_size > checkpoint.size:
                return PushResult(
                    witness.verifier.name, WitnessAnswer.REFUSED, f"the witness has seen size {their_size}"
                )
            response = _add_checkpoint(witness, their_size, checkpoint)
    except (requests.RequestException, ValueError) as error:
        raise WitnessUnavailable(f"{witness.url}: {error}") from error
    if response.status_code >= 500:
        raise WitnessUnavailable(f"{witness.url} answered {response.status_code}")
    if response.status_code != 200:
        return PushResult(
            witness.verifier.name, WitnessAnswer.REFUSED, f"{response.status_code}: {response.text[:200]}"
        )
    try:
        note = Note.parse(checkpoint.note.rstrip("\n") + "\n" + response.text)
        line = note.verified_by(witness.verifier)
    except NoteError as error:
        return PushResult(witness.verifier.name, WitnessAnswer.REFUSED, f"bad cosignature: {error}")
    if line is None:
        return PushResult(witness.verifier.name, WitnessAnswer.REFUSED, "no cosignature of this witness in the answer")
    Cosignature.objects.get_or_create(
        checkpoint=checkpoint, witness=witness.verifier.name, defaults={"sector": witness.sector, "line": line.text()}
    )
    return PushResult(witness.verifier.name, WitnessAnswer.COSIGNED)


def push_latest(retries: int = 0, backoff: float = 0.5) -> list[PushResult]:
    """Push the newest checkpoint to every witness that has not cosigned it yet.

    Unreachable witnesses are retried `retries` times here with exponential backoff (the Celery
    task retries on top of that); the others' answers stand.
    """
    checkpoint = LogCheckpoint.objects.order_by("-size").first()
    if checkpoint is None:
        return []
    results, unavailable = [], []
    for witness in witnesses():
        for attempt in range(retries + 1):
            try:
                results.append(push_to_witness(witness, checkpoint))
                break
            except WitnessUnavailable as error:
                if attempt == retries:
                    unavailable.append(str(error))
                    results.append(PushResult(witness.verifier.name, WitnessAnswer.UNAVAILABLE, str(error)))
                else:
                    time.sleep(backoff * 2**attempt)
    for result in results:
        if result.status == WitnessAnswer.REFUSED:
            logger.error("Witness %s refused checkpoint %s: %s", result.witness, checkpoint.size, result.detail)
    return results


def cosigned_note(checkpoint: LogCheckpoint) -> Note:
    """The checkpoint's note with every stored cosignature line."""
    note = Note.parse(checkpoint.note)
    lines = [Note.parse(note.text + "\n" + c.line).signatures[0] for c in checkpoint.cosignatures.all()]
    return note.with_lines(lines)


def verified_checkpoint() -> tuple[LogCheckpoint, Note] | None:
    """The newest checkpoint with a valid cosignature of a witness of every sector (DESIGN §3)."""
    policy = witness_policy()
    if not all(policy[sector] for sector in SECTORS):
        return None
    candidates = LogCheckpoint.objects.cosigned_by_every_sector(SECTORS).prefetch_related("cosignatures")
    for checkpoint in candidates[:20]:
        note = cosigned_note(checkpoint)
        try:
            if all(any(note.verified_by(key) for key in policy[sector]) for sector in SECTORS):
                return checkpoint, note
        except NoteError:
            continue
    return None
