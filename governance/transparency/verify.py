"""Verifying the record: every commitment against its event, the tree against the newest
checkpoint the log signed, and that against what each sector's witness last cosigned.

The witnesses are asked directly (their state is outside the portal's database), so a history
rewritten in the database, even with every commitment, node and checkpoint recomputed and
re-signed with the log key, disagrees with them and is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests
from django.conf import settings

from governance.models import AuditEvent, LogCheckpoint, LogNode, LogVerification
from governance.transparency import merkle, tree
from governance.transparency.keys import Witness, log_origin, log_verifier, witnesses
from governance.transparency.note import Checkpoint, Note, NoteError, b64, open_checkpoint
from governance.transparency.proof import commitment


@dataclass
class LogReport:
    """The outcome of a verification, in the shape of /api/audit-events/verify/."""

    ok: bool = True
    checked: int = 0
    first_broken: int | None = None
    tree_size: int = 0
    root: str = ""
    witnesses: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str, event_id: int | None = None) -> None:
        """Record a problem; the first event found broken is the one reported."""
        self.ok = False
        self.problems.append(problem)
        if event_id is not None and self.first_broken is None:
            self.first_broken = event_id

    def as_dict(self) -> dict:
        """The JSON answer."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_broken": self.first_broken,
            "tree_size": self.tree_size,
            "root": self.root,
            "witnesses": self.witnesses,
            "problems": self.problems,
        }


def fetch_witness_checkpoint(witness: Witness, origin: str) -> Checkpoint | None:
    """The newest checkpoint of `origin` that the witness cosigned, checked against its key."""
    response = requests.get(
        f"{witness.url}/latest?{urlencode({'origin': origin})}", timeout=settings.LOG_WITNESS_TIMEOUT
    )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    note = Note.parse(response.text)
    if note.verified_by(witness.verifier) is None:
        raise NoteError("the witness's answer carries no cosignature of its key")
    return Checkpoint.parse(note.text)


def verify_log(check_witnesses: bool = True, check_rows: bool = True) -> LogReport:
    """Check everything the portal can check about its own record, ask the witnesses, and
    replay the log against the rows it made (votes, closed ballots, ledger transactions)."""
    report = LogReport()
    leaves: list[bytes] = []
    expected_index = 0
    events = AuditEvent.objects.filter(leaf_index__isnull=False).order_by("leaf_index")
    for event in events.iterator(chunk_size=2000):
        report.checked += 1
        if commitment(bytes(event.salt), event.entry()) != bytes(event.commitment):
            report.fail(f"event {event.pk} does not match its commitment", event.pk)
        if event.leaf_index is not None:
            if event.leaf_index != expected_index:
                report.fail(f"leaf {expected_index} is missing (next is event {event.pk})", event.pk)
                expected_index = event.leaf_index
            leaves.append(merkle.leaf_hash(bytes(event.commitment)))
            expected_index += 1
    for event in AuditEvent.objects.filter(leaf_index__isnull=True).order_by("id").iterator(chunk_size=2000):
        report.checked += 1
        if commitment(bytes(event.salt), event.entry()) != bytes(event.commitment):
            report.fail(f"event {event.pk} does not match its commitment", event.pk)
    rebuilt = merkle.MemoryTree(leaves)
    size = tree.tree_size()
    report.tree_size, report.root = size, b64(rebuilt.root(min(size, rebuilt.size)))
    if rebuilt.size != size:
        report.fail(f"the log holds {rebuilt.size} leaves but its state says {size}")
    else:
        _check_nodes(report, rebuilt)
    _check_checkpoint(report, rebuilt)
    if check_witnesses:
        for witness in witnesses():
            report.witnesses.append(_check_witness(report, witness, rebuilt))
    if check_rows:
        from governance.transparency.replay import replay

        for problem in replay():
            report.fail(problem)
    LogVerification.objects.create(
        ok=report.ok,
        checked=report.checked,
        tree_size=report.tree_size,
        first_broken=report.first_broken,
        problems=len(report.problems),
    )
    return report


def _check_nodes(report: LogReport, rebuilt: merkle.MemoryTree) -> None:
    """Every stored node must be the one the commitments make: proofs are served from them."""
    expected = {(level, index): value for level, row in enumerate(rebuilt.levels) for index, value in enumerate(row)}
    stored = 0
    for level, index, value in LogNode.objects.values_list("level", "index", "hash").iterator(chunk_size=5000):
        stored += 1
        if expected.get((level, index)) != bytes(value):
            report.fail(f"the stored tree's node {level}/{index} does not match the events' commitments")
            return
    if stored != len(expected):
        report.fail(f"the stored tree has {stored} nodes where the commitments make {len(expected)}")


def _check_checkpoint(report: LogReport, rebuilt: merkle.MemoryTree) -> None:
    latest = LogCheckpoint.objects.order_by("-size").first()
    if latest is None:
        if rebuilt.size:
            report.fail("the log has leaves but no signed checkpoint")
        return
    try:
        _, checkpoint = open_checkpoint(latest.note, log_verifier())
    except NoteError as error:
        report.fail(f"the newest checkpoint is not signed by the log key: {error}")
        return
    if checkpoint.size > rebuilt.size:
        report.fail(f"the log signed size {checkpoint.size} but holds {rebuilt.size} leaves")
    elif rebuilt.root(checkpoint.size) != checkpoint.root:
        report.fail(f"the tree does not match the checkpoint the log signed at size {checkpoint.size}")


def _check_witness(report: LogReport, witness: Witness, rebuilt: merkle.MemoryTree) -> dict:
    answer: dict[str, object] = {"sector": witness.sector, "name": witness.verifier.name, "size": None, "agrees": False}
    try:
        checkpoint = fetch_witness_checkpoint(witness, log_origin())
    except (requests.RequestException, NoteError) as error:
        answer["error"] = str(error)
        report.fail(f"the {witness.sector} witness {witness.verifier.name} could not be checked: {error}")
        return answer
    if checkpoint is None:
        answer["agrees"] = rebuilt.size == 0
        if rebuilt.size:
            report.fail(f"the {witness.sector} witness has cosigned nothing of this log")
        return answer
    answer["size"] = checkpoint.size
    if checkpoint.size > rebuilt.size:
        report.fail(
            f"the {witness.sector} witness cosigned size {checkpoint.size}, "
            f"but the log holds {rebuilt.size} leaves: history was cut"
        )
    elif rebuilt.root(checkpoint.size) != checkpoint.root:
        report.fail(
            f"the {witness.sector} witness cosigned another root at size {checkpoint.size}: "
            "the database's history differs from what the witness saw"
        )
    else:
        answer["agrees"] = True
    return answer
