"""Receipts (tlog-proof@v1) verify offline, and fail after any byte changes."""

from __future__ import annotations

import os

import pytest

from governance.transparency import merkle
from governance.transparency.note import COSIGNATURE_V1, Checkpoint, Note, NoteError, Signer, sign_note
from governance.transparency.proof import Receipt, build_receipt, canonical_json, commitment, verify_receipt

LOG = Signer.generate("portal.example/audit")
PUBLIC = Signer.generate("witness.public.example", COSIGNATURE_V1)
PRIVATE = Signer.generate("witness.private.example", COSIGNATURE_V1)
WITNESSES = {"public": [PUBLIC.verifier], "private": [PRIVATE.verifier]}
EVENTS = [{"verb": "vote.cast", "object_id": str(i), "changes": {"after": {"choice": "yes"}}} for i in range(11)]
SALTS = [os.urandom(32) for _ in EVENTS]


def cosigned(tree: merkle.MemoryTree, *witnesses: Signer) -> Note:
    note = sign_note(Checkpoint(LOG.name, tree.size, tree.root()).text(), LOG)
    lines = [
        Note.parse(note.text + "\n" + w.signature_line(note.text.encode(), 1_700_000_000)).signatures[0]
        for w in witnesses
    ]
    return note.with_lines(lines)


def receipt_for(index: int, *witnesses: Signer) -> Receipt:
    commitments = [commitment(salt, event) for salt, event in zip(SALTS, EVENTS, strict=True)]
    tree = merkle.MemoryTree(merkle.leaf_hash(c) for c in commitments)
    proof = merkle.inclusion_proof(tree.node, index, tree.size)
    return build_receipt(index, commitments[index], proof, cosigned(tree, *(witnesses or (PUBLIC, PRIVATE))))


def test_canonical_json_is_sorted_compact_and_utf8():
    assert canonical_json({"b": 1, "a": ["é", None, True]}) == '{"a":["é",null,true],"b":1}'.encode()


def test_a_receipt_verifies_offline_with_and_without_the_event():
    receipt = receipt_for(7)
    text = receipt.text()
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra ")
    assert Receipt.parse(text) == receipt
    check = verify_receipt(Receipt.parse(text), LOG.verifier, WITNESSES)
    assert check.checkpoint.size == 11
    assert set(check.cosigned_by) == {PUBLIC.name, PRIVATE.name}
    verify_receipt(Receipt.parse(text), LOG.verifier, WITNESSES, event=EVENTS[7], salt=SALTS[7])
    with pytest.raises(NoteError, match="do not make"):
        verify_receipt(Receipt.parse(text), LOG.verifier, WITNESSES, event=EVENTS[6], salt=SALTS[7])


def test_a_receipt_without_both_sectors_cosignatures_does_not_count():
    with pytest.raises(NoteError, match="private sector"):
        verify_receipt(receipt_for(3, PUBLIC), LOG.verifier, WITNESSES)


def test_a_receipt_fails_after_any_byte_changes():
    text = receipt_for(5).text()
    for position in range(len(text)):
        changed = text[:position] + ("A" if text[position] != "A" else "B") + text[position + 1 :]
        with pytest.raises(NoteError):
            verify_receipt(Receipt.parse(changed), LOG.verifier, WITNESSES)
