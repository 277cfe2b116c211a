"""Every published decision links to its receipt, and a visitor who never signs in checks the
decision against the record both sectors' witnesses cosigned, with the commands the record page
gives."""

from __future__ import annotations

import json
import re
import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from governance import services
from governance.choices import Sector, SubjectType, VoteChoice
from governance.models import AuditEvent
from governance.transparency.integrate import integrate, push_latest
from tests.governance.transparency.witnesses import WitnessedLogCase


@override_settings(PUBLIC_CACHE_SECONDS=0)
class PublicReceiptTests(WitnessedLogCase):
    def decide(self, title: str = "Adopt the meeting calendar"):
        ballot = services.create_ballot(
            self.public_chair, committee=self.committee, title=title, subject_type=SubjectType.MOTION
        )
        ballot = services.open_ballot(self.public_chair, ballot)
        for person in (self.public_chair, self.public_member, self.private_chair, self.private_member):
            services.cast_vote(person, ballot, VoteChoice.YES)
        ballot = services.close_ballot(self.public_chair, ballot)
        integrate()
        push_latest()
        return ballot

    def test_a_visitor_checks_a_published_decision_against_the_cosigned_record(self):
        ballot = self.decide()
        files = Path(tempfile.mkdtemp(prefix="tgb-public-receipts-"))
        visitor = Client()
        page = visitor.get(f"/public/decisions/{ballot.pk}/").content.decode()
        receipt_url = re.search(r'href="(/public/receipts/\d+)"', page).group(1)
        salt = re.search(r"salt <code[^>]*>([^<]+)</code>", page).group(1)
        receipt = visitor.get(receipt_url)
        self.assertEqual(receipt.status_code, 200)
        self.assertEqual(receipt["Content-Type"], "text/plain; charset=utf-8")
        (files / "receipt").write_bytes(receipt.content)
        (files / "keys").write_bytes(visitor.get("/transparency/keys").content)
        event = visitor.get(f"/public/decisions/{ballot.pk}/event.json")
        self.assertEqual(event.json()["verb"], "ballot.closed")
        (files / "event.json").write_bytes(event.content)
        out = StringIO()
        call_command(
            "verify_receipt",
            str(files / "receipt"),
            "--keys",
            str(files / "keys"),
            "--event",
            str(files / "event.json"),
            "--salt",
            salt,
            stdout=out,
        )
        self.assertIn("the event and salt match", out.getvalue())
        # A tally changed after the fact no longer matches the commitment in the record.
        forged = event.json()
        forged["changes"]["after"]["outcome"] = "rejected"
        (files / "event.json").write_text(json.dumps(forged))
        with self.assertRaises(CommandError):
            call_command(
                "verify_receipt",
                str(files / "receipt"),
                "--keys",
                str(files / "keys"),
                "--event",
                str(files / "event.json"),
                "--salt",
                salt,
                stdout=StringIO(),
            )

    def test_the_record_page_shows_the_cosigned_checkpoint_and_both_witnesses(self):
        ballot = self.decide()
        page = Client().get("/public/record/")
        self.assertContains(page, "The latest checkpoint both sectors cosigned")
        self.assertContains(page, self.public.vkey)
        self.assertContains(page, self.private.vkey)
        self.assertContains(page, "verify_receipt receipt.tlog-proof --keys keys.txt")
        self.assertContains(page, f"/public/decisions/{ballot.pk}/event.json")
        listed = Client().get("/public/data/decisions.json").json()["rows"]
        self.assertIsNotNone(next(r for r in listed if r["id"] == ballot.pk)["log_index"])

    def test_an_event_not_yet_in_a_cosigned_checkpoint_has_no_receipt_yet(self):
        self.decide()
        services.create_organization(self.admin, name="Too Recent", sector=Sector.PUBLIC)
        integrate()  # in the tree, not yet cosigned
        newest = AuditEvent.objects.order_by("-leaf_index").first()
        response = Client().get(f"/public/receipts/{newest.leaf_index}")
        self.assertEqual(response.status_code, 404)
        self.assertIn(b"No checkpoint cosigned", response.content)
