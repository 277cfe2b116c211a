"""Every vote, outcome, award and ledger posting links to its receipt on its page, once a
checkpoint both sectors' witnesses cosigned covers it; the link downloads a receipt that
`verify_receipt` accepts offline."""

from __future__ import annotations

import re
import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from governance import services
from governance.choices import SubjectType, VoteChoice
from governance.transparency.integrate import integrate, push_latest
from tests.compute.credits import make_world
from tests.governance.transparency.witnesses import WitnessedLogCase
from tests.support.ballots import close_by_both

RECEIPT_LINK = re.compile(r'href="(/api/audit-events/(\d+)/receipt/)" download="receipt-(\d+)\.txt"')


class ReceiptLinkTests(WitnessedLogCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.world = make_world(cls.body)

    def cosign(self) -> None:
        integrate()
        push_latest()

    def verifies(self, client, path: str) -> str:
        """Download a receipt through its link and check it offline against the published keys."""
        files = Path(tempfile.mkdtemp(prefix="tgb-receipt-links-"))
        (files / "keys").write_bytes(self.client.get("/transparency/keys").content)
        response = client.get(path)
        self.assertEqual(response.status_code, 200, response.content)
        (files / "receipt").write_bytes(response.content)
        out = StringIO()
        call_command("verify_receipt", str(files / "receipt"), "--keys", str(files / "keys"), stdout=out)
        return out.getvalue()

    def decided_motion(self):
        ballot = services.create_ballot(
            self.public_chair, committee=self.committee, title="Adopt the calendar", subject_type=SubjectType.MOTION
        )
        ballot = services.open_ballot(self.public_chair, ballot)
        for voter in (self.public_chair, self.private_chair, self.public_member, self.private_member):
            services.cast_vote(voter, ballot, VoteChoice.YES)
        return close_by_both(ballot, self.public_chair, self.private_chair)

    def test_a_members_vote_and_the_outcome_link_to_receipts_that_verify(self):
        ballot = self.decided_motion()
        self.client.force_login(self.public_member)
        page = self.client.get(f"/ballots/{ballot.pk}/").content.decode()
        self.assertIn("Receipt for your vote: in the record within seconds", page)
        self.assertNotRegex(page, RECEIPT_LINK)

        self.cosign()
        page = self.client.get(f"/ballots/{ballot.pk}/").content.decode()
        links = RECEIPT_LINK.findall(page)
        self.assertEqual(len(links), 1, "a member without the log's read right sees their own vote's receipt only")
        self.assertIn("Receipt for your vote", page)
        self.assertIn("Receipt verified", self.verifies(self.client, links[0][0]))

        self.client.force_login(self.auditor)
        page = self.client.get(f"/ballots/{ballot.pk}/").content.decode()
        self.assertIn("Receipt for the outcome", page)
        (path, _, index), *_ = RECEIPT_LINK.findall(page)
        self.assertIn(f"Receipt verified: leaf {index}", self.verifies(self.client, path))

    def test_an_award_and_each_ledger_posting_link_to_their_receipts(self):
        from compute.services.credits import pools, requests

        request = requests.create_request(
            self.staff,
            charter=self.world["charter"],
            resource=self.world["gpu"],
            pool=self.world["pool"],
            amount=1000,
            justification="Training runs for the flood model.",
            submit=True,
        )
        requests.sign_request(self.public_chair, request)
        requests.sign_request(self.private_chair, request)
        request.refresh_from_db()
        self.cosign()

        self.client.force_login(self.auditor)
        page = self.client.get(f"/compute/requests/{request.pk}/").content.decode()
        self.assertIn("Receipt for the award", page)
        (path, _, _), *_ = RECEIPT_LINK.findall(page)
        self.assertIn("Receipt verified", self.verifies(self.client, path))

        account = pools.open_account(self.world["charter"])
        page = self.client.get(f"/compute/accounts/{account.pk}/").content.decode()
        self.assertIn(f"Receipt of transaction #{request.allocation_id}", page)
        self.assertEqual(len(RECEIPT_LINK.findall(page)), account.entries.count())
