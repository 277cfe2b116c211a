"""Signed notes, checkpoints and cosignatures follow C2SP byte for byte."""

from __future__ import annotations

import pytest

from governance.transparency.note import (
    COSIGNATURE_V1,
    Checkpoint,
    Note,
    NoteError,
    Signer,
    Verifier,
    key_id,
    open_checkpoint,
    sign_note,
)

# The example of Go's golang.org/x/mod/sumdb/note documentation: Ed25519 is deterministic, so
# signing the same text with the same key must give this very note.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_the_go_example_key_signs_the_go_example_note_byte_for_byte():
    signer = Signer.parse(GO_SKEY)
    assert signer.skey == GO_SKEY
    assert signer.verifier.vkey == GO_VKEY
    assert sign_note(GO_TEXT, signer).render() == GO_NOTE
    note = Note.parse(GO_NOTE)
    assert note.text == GO_TEXT
    assert note.verified_by(Verifier.parse(GO_VKEY)) is not None


def test_a_changed_text_under_a_known_key_is_rejected_and_an_unknown_key_ignored():
    with pytest.raises(NoteError, match="does not verify"):
        Note.parse(GO_NOTE.replace("answer", "answers")).verified_by(Verifier.parse(GO_VKEY))
    stranger = Signer.generate("PeterNeumann").verifier
    assert Note.parse(GO_NOTE).verified_by(stranger) is None


def test_keys_with_a_wrong_id_or_shape_are_refused():
    for bad in (
        GO_VKEY.replace("c74f20a3", "c74f20a4"),
        GO_VKEY.replace("c74f20a3", "C74F20A3"),
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
    ):
        with pytest.raises(NoteError):
            Verifier.parse(bad)
    with pytest.raises(NoteError):
        Signer.parse(GO_SKEY.replace("c74f20a3", "00000000"))


def test_a_witness_key_uses_type_four_in_its_key_id():
    witness = Signer.generate("witness.example/public", COSIGNATURE_V1)
    public = witness.verifier.public_key
    assert witness.verifier.key_id == key_id("witness.example/public", 0x04, public)
    assert witness.verifier.key_id != key_id("witness.example/public", 0x01, public)
    assert Signer.parse(witness.skey).verifier == witness.verifier
    assert Verifier.parse(witness.verifier.vkey) == witness.verifier


def test_a_cosignature_signs_the_header_the_time_and_the_checkpoint():
    log = Signer.generate("example.com/audit")
    witness = Signer.generate("witness.example/w1", COSIGNATURE_V1)
    checkpoint = Checkpoint("example.com/audit", 20852163, bytes(range(32)))
    note = sign_note(checkpoint.text(), log)
    line = Note.parse(note.text + "\n" + witness.signature_line(note.text.encode(), 1679315147)).signatures[0]
    cosigned = note.with_lines([line])
    assert witness.verifier.timestamp(line.signature) == 1679315147
    assert len(line.signature) == 72
    assert Note.parse(cosigned.render()).verified_by(witness.verifier) == line
    # The signature covers the time: another time under the same signature does not verify.
    forged = line.signature[:7] + bytes([line.signature[7] ^ 1]) + line.signature[8:]
    assert not witness.verifier.verify(note.text.encode(), forged)
    assert open_checkpoint(cosigned.render(), log.verifier)[1] == checkpoint


def test_a_checkpoint_reads_back_exactly_and_refuses_malformed_bodies():
    checkpoint = Checkpoint("example.com/audit", 0, bytes(32))
    assert Checkpoint.parse(checkpoint.text()) == checkpoint
    assert checkpoint.text() == "example.com/audit\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    for bad in (
        "example.com/audit\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "example.com/audit\n1\nAAAA\n",
        "example.com/audit\n1\n",
        "example.com/audit\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    ):
        with pytest.raises(NoteError):
            Checkpoint.parse(bad)


def test_a_checkpoint_from_another_origin_is_not_the_logs():
    log = Signer.generate("example.com/audit")
    note = sign_note(Checkpoint("example.com/other", 1, bytes(32)).text(), log)
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(note.render(), log.verifier)


@pytest.mark.parametrize(
    "message",
    [
        "no blank line\n\u2014 a AAAAAAA=\n",
        "text\n\n- PeterNeumann AAAAAAA=\n",
        "text\n\n\u2014 PeterNeumann not*base64\n",
        "text\n\n\u2014 PeterNeumann AAA=\n",
        "te\x07xt\n\n\u2014 PeterNeumann AAAAAAA=\n",
        b"\xff\xfe\n\n\xe2\x80\x94 a AAAAAAA=\n",
        "text\n\n",
    ],
)
def test_malformed_notes_are_a_note_error_never_a_crash(message):
    with pytest.raises(NoteError):
        Note.parse(message)
