"""How one charge in a usage batch is proven, and how every batch is replayed against its root.

A batch's root is the RFC 9162 Merkle root over its leaves' entries (`entry = SHA-256(leaf
text)`; compute.services.credits.leaves says what the leaves of each version are), so a charge
is proven by an inclusion path of O(log n) hashes against the root in the batch's one event
(DESIGN.md 2.3, 2.6).
"""

from __future__ import annotations

import base64
import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection

from compute.models import LedgerEntry, UsageBatch, UsageRecord
from compute.services.credits.leaves import (
    RECORD_FIELDS,
    grouped_leaf_text,
    grouped_texts,
    leaf_entry,
    leaf_text,
    named,
    python_entries_v2,
    python_entries_v3,
    record_leaf_text,
    records_digest,
    sql_entries,
    sql_entries_v2,
    sql_entries_v3,
    stream_root,
)
from governance.transparency import merkle


@dataclass(frozen=True)
class DebitProof:
    """One debit's place in its batch: the leaf entry, its index, the inclusion path and the
    root the batch's audit event recorded. Check it with `verify_debit_proof`. In a batch of
    version 3 the leaf is the record's debit (or its uncharged day): `records` are the texts
    of that leaf's records, `record` the one proven, and the entry ends with their digest."""

    batch_id: int
    index: int
    size: int
    entry: bytes
    path: list[bytes]
    root: bytes
    leaf: str = ""
    records: tuple[str, ...] = ()
    record: str = ""

    def as_dict(self) -> dict:
        encode = base64.b64encode
        answer = {
            "batch": self.batch_id,
            "index": self.index,
            "size": self.size,
            "entry": encode(self.entry).decode(),
            "path": [encode(h).decode() for h in self.path],
            "root": encode(self.root).decode(),
        }
        if self.records:
            answer.update(leaf=self.leaf, records=list(self.records), record=self.record)
        return answer


def _records_v2(batch: UsageBatch) -> list[tuple]:
    return list(batch.usage_records().order_by("pk").values_list(*RECORD_FIELDS))


def _records_v3(batch: UsageBatch) -> list[tuple]:
    return list(batch.usage_records().order_by("pk").values_list("pk", *RECORD_FIELDS))


def _debit_entries(transaction_ids) -> dict[int, list]:
    entries: dict[int, list] = defaultdict(list)
    for txn, account, pool, amount in LedgerEntry.objects.filter(transaction_id__in=transaction_ids).values_list(
        "transaction_id", "account_id", "pool_id", "amount"
    ):
        entries[txn].append((account, pool, amount))
    return entries


def batch_entries(batch_id: int, leaves: int = 2) -> Iterator[bytes]:
    """The leaf entries of a batch as its tables hold it now (for replay and proofs)."""
    batch = UsageBatch.objects.get(pk=batch_id)
    record = UsageRecord._meta.db_table
    # The batch's records (by their run of ids, the primary key: UsageBatch.record_ids) and its
    # debits' entries, as subqueries for the SQL of versions 2 and 3.
    params = {"batch": batch.pk, "first": batch.record_ids().start, "end": batch.record_ids().stop}

    def own(u: str) -> str:
        ids = f" AND {u}id >= %(first)s AND {u}id < %(end)s" if batch.first_record is not None else ""
        return f"{u}batch_id = %(batch)s{ids}"

    tables = (
        f"(SELECT * FROM {record} WHERE {own('')})",  # noqa: S608 - the model's table
        f"(SELECT * FROM {LedgerEntry._meta.db_table} WHERE transaction_id IN "  # noqa: S608
        f"(SELECT transaction_id FROM {record} WHERE {own('')}))",
        params,
    )
    if leaves == 3:
        if connection.vendor == "postgresql":
            yield from sql_entries_v3(*tables)
            return
        records = _records_v3(batch)
        yield from python_entries_v3(records, _debit_entries({r[1] for r in records if r[1] is not None}))
        return
    if leaves == 2:
        if connection.vendor == "postgresql":
            yield from sql_entries_v2(*tables)
            return
        records = _records_v2(batch)
        yield from python_entries_v2(records, _debit_entries({r[0] for r in records if r[0] is not None}))
        return
    if connection.vendor == "postgresql":
        yield from sql_entries(
            f"(SELECT * FROM {record} WHERE {own('')})",  # noqa: S608 - the model's table
            f"(SELECT e.* FROM {LedgerEntry._meta.db_table} e JOIN {record} u "  # noqa: S608
            f"ON u.transaction_id = e.transaction_id WHERE {own('u.')})",
            "",
            params,
        )
        return
    records = list(batch.usage_records().order_by().values_list(*RECORD_FIELDS))
    entries: dict[int, list] = defaultdict(list)
    for txn, account, pool, amount in LedgerEntry.objects.filter(
        transaction_id__in=batch.usage_records().values("transaction_id")
    ).values_list("transaction_id", "account_id", "pool_id", "amount"):
        entries[txn].append((account, pool, amount))
    records.sort(key=lambda r: (r[1], r[2], r[3], r[4]))
    for row in records:
        txn = row[0]
        yield leaf_entry(leaf_text(**named(row), entries=entries.get(txn, []) if txn is not None else []))


def debit_proof(record: UsageRecord) -> DebitProof:
    """The inclusion proof of one batched usage record (and its charge) in its batch's root."""
    if record.batch_id is None:
        raise ValueError("This usage was posted on its own: its own audit event is its proof.")
    batch = UsageBatch.objects.get(pk=record.batch_id)
    entries = list(batch_entries(batch.pk, batch.leaves))
    key: dict[str, Any] = {name: getattr(record, name) for name in RECORD_FIELDS}
    if batch.leaves == 3:
        return _grouped_proof(batch, record, record_leaf_text(**key), entries)
    if batch.leaves == 2:
        mine = leaf_entry(record_leaf_text(**key))
    else:
        txn = record.transaction
        own = txn.entries.values_list("account_id", "pool_id", "amount") if txn is not None else []
        mine = leaf_entry(leaf_text(**key, entries=own))
    index = entries.index(mine)
    tree = merkle.MemoryTree(merkle.leaf_hash(e) for e in entries)
    return DebitProof(
        batch.pk, index, tree.size, mine, merkle.inclusion_proof(tree.node, index, tree.size), bytes(batch.root)
    )


def _grouped_proof(batch: UsageBatch, record: UsageRecord, text: str, entries: list[bytes]) -> DebitProof:
    """A record's proof in a batch of version 3: the texts of its leaf's records and that leaf."""
    group = batch.usage_records()
    if record.transaction_id is not None:
        group = group.filter(transaction_id=record.transaction_id)
    else:
        day = record.hour.astimezone(datetime.UTC).date()
        start = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
        group = group.filter(
            transaction__isnull=True,
            charter_id=record.charter_id,
            hour__gte=start,
            hour__lt=start + datetime.timedelta(days=1),
        )
    (texts,) = grouped_texts(list(group.order_by("pk").values_list("pk", *RECORD_FIELDS))).values()
    txn = record.transaction_id
    own = _debit_entries([txn]).get(txn, []) if txn is not None else []
    leaf = grouped_leaf_text(
        record.transaction_id,
        own,
        texts,
        charter_id=record.charter_id,
        day=record.hour.astimezone(datetime.UTC).date(),
    )
    mine = leaf_entry(leaf)
    index = entries.index(mine)
    tree = merkle.MemoryTree(merkle.leaf_hash(e) for e in entries)
    return DebitProof(
        batch.pk,
        index,
        tree.size,
        mine,
        merkle.inclusion_proof(tree.node, index, tree.size),
        bytes(batch.root),
        leaf=leaf,
        records=tuple(texts),
        record=text,
    )


def verify_debit_proof(proof: DebitProof) -> bool:
    """Whether the debit's entry is in the root at its index (offline: hashes only); in a batch
    of version 3, also whether the record is one of its leaf's records and the leaf's entry
    commits to exactly those records."""
    if proof.records:
        if proof.record not in proof.records or leaf_entry(proof.leaf) != proof.entry:
            return False
        if not proof.leaf.endswith("|" + records_digest(proof.records)):
            return False
    return merkle.verify_inclusion(proof.index, proof.size, merkle.leaf_hash(proof.entry), proof.path, proof.root)


def replay_usage_batches() -> list[str]:
    """Each usage batch's records and entries still hash to the root its audit event recorded."""
    from governance.models import AuditEvent

    problems = []
    recorded = dict(
        AuditEvent.objects.filter(object_type=UsageBatch._meta.label_lower, verb="ledger.usage_batch").values_list(
            "object_id", "changes__after__root"
        )
    )
    for batch in UsageBatch.objects.order_by("pk").iterator(chunk_size=200):
        in_log = recorded.get(str(batch.pk))
        if in_log is None:
            problems.append(f"usage batch {batch.pk} has no event in the log")
            continue
        root, _ = stream_root(batch_entries(batch.pk, batch.leaves))
        if base64.b64encode(root).decode() != in_log or bytes(batch.root) != root:
            problems.append(
                f"usage batch {batch.pk}'s {batch.posted} record(s) or their debits differ from those its event "
                "committed to"
            )
    return problems
