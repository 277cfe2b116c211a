"""The evidence RAG reads the credit burn of linked charters from the real ledger."""

import datetime
from decimal import Decimal

from django.utils import timezone

from compute.services.credits import usage
from roadmap.evidence import UNKNOWN, CreditBurn, credit_burns
from tests.compute.credits import CreditsTestCase


class CreditBurnFromTheLedgerTests(CreditsTestCase):
    def test_allocation_and_usage_of_linked_charters_make_the_burn(self):
        self.approve(self.request_credits(4000))
        hour = (timezone.now() - datetime.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        usage.post_usage(source="test", resource=self.gpu, charter=self.charter, hour=hour, unit_hours=Decimal("400"))
        burns = credit_burns({1: [self.charter.pk, self.restricted.pk], 2: [self.restricted.pk], 3: []})
        # 400 GPU-hours at 2.5 credits = 1,000 of 4,000 allocated; Helios' charter has no account yet.
        self.assertEqual(burns[1], CreditBurn(allocated=Decimal("4000"), spent=Decimal("1000")))
        self.assertEqual(burns[1].fraction, Decimal("0.25"))
        self.assertEqual(burns[2], UNKNOWN)
        self.assertEqual(burns[3], UNKNOWN)
