"""The demo seeds credits a visitor can explore: requests in every state, accounts with months
of usage, an overdrawn account, alerts, a transfer and a refund, and a consistent ledger."""

from io import StringIO

from django.core.management import call_command
from django.test import TestCase, override_settings

from compute.choices import RequestStatus
from compute.models import CreditAccount, CreditAlert, CreditRefund, CreditRequest, CreditTransfer, UsageRecord
from compute.services.credits import verification


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class CreditDemoTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        call_command("seed_demo", stdout=StringIO())

    def test_the_demo_has_requests_in_every_state(self):
        self.assertEqual(
            set(CreditRequest.objects.values_list("status", flat=True)),
            set(RequestStatus.values),
        )
        waiting = CreditRequest.objects.filter(status=RequestStatus.SUBMITTED)
        self.assertTrue(any(r.needs_ballot for r in waiting), "one request waits for a ballot")
        self.assertTrue(any(r.signatures.count() == 1 for r in waiting), "one waits for its second signature")

    def test_accounts_carry_months_of_usage_and_the_alerts_it_raised(self):
        first = UsageRecord.objects.order_by("hour").first().hour
        last = UsageRecord.objects.order_by("hour").last().hour
        self.assertGreater((last - first).days, 120)
        self.assertTrue(any(a.overdrawn for a in CreditAccount.objects.filter(kind="charter")))
        self.assertTrue(CreditAlert.objects.filter(threshold=100).exists())
        self.assertTrue(CreditTransfer.objects.filter(status="completed").exists())
        self.assertTrue(CreditRefund.objects.filter(status="approved").exists())

    def test_the_demo_ledger_is_consistent(self):
        report = verification.verify_ledger()
        self.assertTrue(report.ok, report.problems)

    def test_the_demo_pages_render(self):
        from governance.models import User

        sam = User.objects.get(username="sam.staff")
        self.client.force_login(sam)
        # An account of Sam's own organization: charters of other organizations may be closed to him.
        account = (
            CreditAccount.objects.filter(kind="charter", charter__lead_organization=sam.organization)
            .exclude(entries=None)
            .order_by("pk")
            .first()
        )
        for url in ("/", "/compute/credits/", f"/compute/accounts/{account.pk}/", "/compute/oversubscription/"):
            self.assertEqual(self.client.get(url).status_code, 200, url)
