"""The record's public face and its receipts: anyone can fetch the cosigned checkpoint, the keys,
proofs and entries, and check a receipt offline with `verify_receipt`."""

from __future__ import annotations

import base64
import json
import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import CommandError, call_command

from governance import services
from governance.choices import Sector
from governance.models import AuditEvent
from governance.transparency import merkle
from governance.transparency.integrate import integrate, push_latest
from governance.transparency.keys import log_verifier, witness_policy
from governance.transparency.note import Note, open_checkpoint
from governance.transparency.proof import commitment
from tests.governance.transparency.witnesses import WitnessedLogCase


def unb64(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


class PublicRecordTests(WitnessedLogCase):
    def setUp(self):
        super().setUp()
        self.files = Path(tempfile.mkdtemp(prefix="tgb-receipts-"))

    def cosign(self) -> None:
        integrate()
        push_latest()

    def test_anyone_reads_the_checkpoint_once_both_sectors_cosigned_it(self):
        self.assertEqual(self.client.get("/transparency/checkpoint").status_code, 404)
        self.cosign()
        response = self.client.get("/transparency/checkpoint")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/plain; charset=utf-8")
        note, checkpoint = open_checkpoint(response.content.decode(), log_verifier())
        self.assertEqual(checkpoint.size, AuditEvent.objects.count())
        for sector, keys in witness_policy().items():
            self.assertTrue(any(note.verified_by(key) for key in keys), sector)

    def test_the_keys_list_the_log_and_each_sectors_witness(self):
        lines = self.client.get("/transparency/keys").content.decode().splitlines()
        self.assertEqual(lines[0], f"log {log_verifier().vkey}")
        self.assertEqual(lines[1:], [f"witness public {self.public.vkey}", f"witness private {self.private.vkey}"])

    def test_proofs_verify_against_the_cosigned_checkpoint_and_bad_queries_are_400(self):
        self.cosign()
        _, checkpoint = open_checkpoint(self.client.get("/transparency/checkpoint").content.decode(), log_verifier())
        event = AuditEvent.objects.get(leaf_index=4)
        body = self.client.get(f"/transparency/proof/inclusion?index=4&size={checkpoint.size}").json()
        self.assertTrue(
            merkle.verify_inclusion(
                4, checkpoint.size, merkle.leaf_hash(bytes(event.commitment)), unb64(body["hashes"]), checkpoint.root
            )
        )
        body = self.client.get(f"/transparency/proof/consistency?old=3&new={checkpoint.size}").json()
        self.assertEqual((body["old"], body["new"]), (3, checkpoint.size))
        size = checkpoint.size
        for url in (
            f"/transparency/proof/inclusion?index={size}&size={size}",
            f"/transparency/proof/inclusion?index=0&size={size + 1}",
            "/transparency/proof/inclusion?index=x&size=2",
            "/transparency/proof/inclusion",
            f"/transparency/proof/consistency?old=0&new={size}",
            "/transparency/proof/consistency?old=3&new=2",
            f"/transparency/proof/consistency?old=1&new={size + 1}",
            "/transparency/entries?start=5&end=5",
            "/transparency/entries?start=0&end=1001",
        ):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 400, url)
            self.assertIn("detail", response.json())

    def test_entries_show_commitments_to_all_and_content_to_auditors(self):
        self.cosign()
        anonymous = self.client.get("/transparency/entries?start=0&end=3").json()
        self.assertEqual(anonymous["tree_size"], AuditEvent.objects.count())
        self.assertEqual([e["index"] for e in anonymous["entries"]], [0, 1, 2])
        self.assertEqual({e["event"] for e in anonymous["entries"]}, {None})
        self.client.force_login(self.auditor)
        entry = self.client.get("/transparency/entries?start=2&end=3").json()["entries"][0]
        self.assertEqual(
            commitment(base64.b64decode(entry["salt"]), entry["event"]), base64.b64decode(entry["commitment"])
        )

    def receipt(self, event: AuditEvent) -> Path:
        response = self.api(self.auditor).get(f"/api/audit-events/{event.pk}/receipt/")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertTrue(response["Content-Type"].startswith("text/plain"))
        path = self.files / f"{event.pk}.tlog-proof"
        path.write_bytes(response.content)
        return path

    def test_a_receipt_verifies_offline_and_fails_after_any_change(self):
        self.cosign()
        keys = self.files / "keys"
        keys.write_bytes(self.client.get("/transparency/keys").content)
        event = AuditEvent.objects.get(leaf_index=6)
        path = self.receipt(event)
        out = StringIO()
        call_command("verify_receipt", str(path), "--keys", str(keys), stdout=out)
        self.assertIn("Receipt verified: leaf 6", out.getvalue())
        event_file = self.files / "event.json"
        event_file.write_text(json.dumps(event.entry()))
        salt = base64.b64encode(bytes(event.salt)).decode()
        call_command(
            "verify_receipt", str(path), "--keys", str(keys), "--event", str(event_file), "--salt", salt, stdout=out
        )
        self.assertIn("the event and salt match", out.getvalue())
        event_file.write_text(json.dumps({**event.entry(), "verb": "vote.forged"}))
        with self.assertRaisesMessage(CommandError, "do not make the receipt's commitment"):
            call_command("verify_receipt", str(path), "--keys", str(keys), "--event", str(event_file), "--salt", salt)
        text = path.read_text()
        changed = text.replace("index 6", "index 5")
        path.write_text(changed)
        with self.assertRaises(CommandError):
            call_command("verify_receipt", str(path), "--keys", str(keys))

    def test_an_event_not_yet_in_a_cosigned_checkpoint_has_no_receipt_yet(self):
        self.cosign()
        services.create_organization(self.admin, name="Too Recent", sector=Sector.PUBLIC)
        event = AuditEvent.objects.order_by("id").last()
        response = self.api(self.auditor).get(f"/api/audit-events/{event.pk}/receipt/")
        self.assertEqual(response.status_code, 409)
        integrate()
        response = self.api(self.auditor).get(f"/api/audit-events/{event.pk}/receipt/")
        self.assertEqual(response.status_code, 409)
        push_latest()
        self.assertEqual(self.api(self.auditor).get(f"/api/audit-events/{event.pk}/receipt/").status_code, 200)
        self.assertEqual(self.api(self.public_member).get(f"/api/audit-events/{event.pk}/receipt/").status_code, 404)

    def test_a_member_fetches_the_receipt_of_their_own_vote_and_it_verifies(self):
        from governance import services as governance_services
        from governance.choices import SubjectType

        ballot = governance_services.create_ballot(
            self.public_chair, committee=self.committee, title="Adopt the calendar", subject_type=SubjectType.MOTION
        )
        governance_services.open_ballot(self.public_chair, ballot)
        governance_services.cast_vote(self.public_member, ballot, "yes")
        self.cosign()
        vote_event = AuditEvent.objects.get(verb="vote.cast", actor=self.public_member)
        response = self.api(self.public_member).get(f"/api/audit-events/{vote_event.pk}/receipt/")
        self.assertEqual(response.status_code, 200, response.content)
        path = self.files / "vote.tlog-proof"
        path.write_bytes(response.content)
        keys = self.files / "keys"
        keys.write_bytes(self.client.get("/transparency/keys").content)
        call_command("verify_receipt", str(path), "--keys", str(keys), stdout=StringIO())
        other = AuditEvent.objects.exclude(actor=self.public_member).order_by("id").first()
        self.assertEqual(self.api(self.public_member).get(f"/api/audit-events/{other.pk}/receipt/").status_code, 404)

    def test_the_verify_endpoint_and_command_report_the_witnesses(self):
        self.cosign()
        body = self.api(self.auditor).get("/api/audit-events/verify/").json()
        self.assertTrue(body["ok"], body)
        self.assertEqual(body["tree_size"], AuditEvent.objects.count())
        self.assertEqual([(w["sector"], w["agrees"]) for w in body["witnesses"]], [("public", True), ("private", True)])
        out = StringIO()
        call_command("verify_audit_log", stdout=out)
        self.assertIn("Audit log intact", out.getvalue())
        self.assertIn("witness public", out.getvalue())
        self.assertEqual(Note.parse(self.client.get("/transparency/checkpoint").content.decode()).text.count("\n"), 3)
