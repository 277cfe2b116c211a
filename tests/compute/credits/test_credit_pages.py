"""The credit pages: requesting credits with the pool and rate in view, signing, the account
with its burn-down and forecast, the pool by sector, oversubscription and the rates."""

import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compute.choices import RefundStatus, RequestStatus
from compute.models import CreditRefund, CreditRequest, LedgerReversal, LedgerTransaction
from compute.services.credits import pools, refunds, requests, resources, usage
from tests.compute.credits import CreditsTestCase

D = Decimal


class CreditPageTests(CreditsTestCase):
    def use_hours(self, count, *, unit_hours="4", start_days_ago=0):
        start = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(days=start_days_ago)
        for n in range(count):
            usage.post_usage(
                source="test",
                resource=self.gpu,
                charter=self.charter,
                hour=start - datetime.timedelta(hours=6 * n + 1),
                unit_hours=D(unit_hours),
            )

    def test_a_staff_member_requests_credits_and_sees_the_request(self):
        self.client.force_login(self.staff)
        form = self.client.get("/compute/requests/new/")
        self.assertContains(form, "100,000 credits available")
        self.assertContains(form, '<label for="id_charter">')
        response = self.client.post(
            "/compute/requests/new/",
            {
                "charter": self.charter.pk,
                "resource": self.gpu.pk,
                "pool": self.pool.pk,
                "amount": "4000",
                "justification": "Ensemble runs",
                "submit": "1",
            },
            follow=True,
        )
        request = CreditRequest.objects.get()
        self.assertRedirects(response, f"/compute/requests/{request.pk}/")
        self.assertContains(response, "is submitted")
        self.assertContains(response, "Waiting for the co-chair of the public and private sector")
        self.assertContains(self.client.get("/compute/requests/"), f"#{request.pk}")

    def test_the_form_shows_a_refusal_on_the_field_it_concerns(self):
        self.client.force_login(self.staff)
        response = self.client.post(
            "/compute/requests/new/",
            {
                "charter": self.charter.pk,
                "resource": self.us_gpu.pk,
                "pool": self.pool.pk,
                "amount": "10",
                "justification": "x",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "outside the charter&#x27;s allowed jurisdictions")
        self.assertFalse(CreditRequest.objects.exists())

    def test_the_quote_shows_the_pool_available_and_the_resource_rate(self):
        self.client.force_login(self.staff)
        response = self.client.get(f"/compute/requests/quote/?pool={self.pool.pk}&resource={self.gpu.pk}")
        self.assertContains(response, "<strong>100,000</strong> credits of 100,000")
        self.assertContains(
            response, "<strong>2.50</strong> credits per GPU-hour on Aurora GPU cluster (EU, TEE-capable)"
        )

    def test_co_chairs_see_what_awaits_their_signature_and_sign_on_the_page(self):
        request = self.request_credits(3000)
        self.client.force_login(self.public_chair)
        self.assertContains(self.client.get("/compute/requests/awaiting/"), f"#{request.pk}")
        self.assertContains(self.client.get("/"), "1 credit request awaits your signature")
        response = self.client.post(f"/compute/requests/{request.pk}/sign/", {"amount": ""}, follow=True)
        self.assertContains(response, "The other sector")
        self.assertNotContains(self.client.get("/compute/requests/awaiting/"), f"#{request.pk}")
        self.client.force_login(self.private_chair)
        response = self.client.post(f"/compute/requests/{request.pk}/sign/", {}, follow=True)
        self.assertContains(response, "the request is approved")
        self.assertEqual(self.refresh(request).status, RequestStatus.APPROVED)

    def test_a_refused_signature_says_why_on_the_page(self):
        request = self.request_credits(3000)
        pools.update_pool(self.admin, self.pool, total=D("1000"))  # the pool shrank after the request
        requests.sign_request(self.public_chair, request)
        self.client.force_login(self.private_chair)
        response = self.client.post(f"/compute/requests/{request.pk}/sign/", {}, follow=True)
        self.assertContains(response, "has only 1,000 credits available")

    def test_the_account_page_shows_balance_forecast_and_a_chart_and_its_queries_do_not_grow(self):
        self.approve(self.request_credits(5000))
        self.use_hours(10)
        account = self.account()
        self.client.force_login(self.staff)
        url = f"/compute/accounts/{account.pk}/"
        self.client.get(url)
        with CaptureQueriesContext(connection) as few:
            response = self.client.get(url)
        self.assertContains(response, "<strong>4,900</strong> credits")
        self.assertContains(response, "Forecast exhaustion")
        self.assertContains(response, 'src="/static/vendor/plotly-basic/plotly-basic.min.js"')
        chart = response.context["chart"]
        self.assertEqual(chart["allocated"][-1], "5000.0000")
        self.assertTrue(chart["forecast"]["days"])
        self.use_hours(60, start_days_ago=3)
        with self.assertNumQueries(len(few)):
            self.client.get(url)

    def test_the_transactions_come_a_page_at_a_time_newest_first(self):
        self.approve(self.request_credits(5000))
        self.use_hours(30)  # with the allocation: 31 transactions, 25 a page
        self.client.force_login(self.staff)
        url = f"/compute/accounts/{self.account().pk}/"
        first = self.client.get(url)
        self.assertContains(first, '<a href="?page=2" rel="next">Older</a>', html=True)
        self.assertEqual(len(first.context["page"].object_list), 25)
        second = self.client.get(url, {"page": 2})
        self.assertContains(second, '<a href="?page=1" rel="prev">Newer</a>', html=True)
        self.assertContains(second, "Allocation")  # the oldest entry ends the list
        self.assertEqual(len(second.context["page"].object_list), 6)

    def test_an_overdrawn_account_is_flagged_on_its_page_and_at_home(self):
        self.approve(self.request_credits(100))
        self.use_hours(1, unit_hours="100")  # 250 credits against 100
        self.client.force_login(self.staff)
        page = self.client.get(f"/compute/accounts/{self.account().pk}/")
        self.assertContains(page, "Overdrawn:")
        home = self.client.get("/")
        self.assertContains(home, "Overdrawn:")
        # One current state per account: the overdraft, not the stack of thresholds it crossed.
        self.assertNotContains(home, "100 % used:")
        self.assertNotContains(home, "75 % used:")

    def test_a_refund_is_asked_for_the_hours_of_a_fault_and_takes_exactly_their_debits(self):
        self.approve(self.request_credits(5000))
        self.use_hours(8)  # one debit every 6 hours, the latest starting an hour ago
        account = self.account()
        hours = sorted(
            LedgerTransaction.objects.filter(kind="usage", entries__account=account).values_list(
                "usage_records__hour", flat=True
            )
        )
        self.client.force_login(self.staff)
        url = f"/compute/accounts/{account.pk}/"
        self.assertContains(self.client.get(url), "Resource at fault")
        # The fault began mid-way through the second-latest hour of use and ended with the latest.
        start, end = hours[-2] + datetime.timedelta(minutes=20), hours[-1] + datetime.timedelta(minutes=30)
        fmt = "%Y-%m-%dT%H:%M"
        response = self.client.post(
            f"{url}refund/",
            {
                "resource": self.gpu.pk,
                "fault_start": timezone.localtime(start).strftime(fmt),
                "fault_end": timezone.localtime(end).strftime(fmt),
                "reason": "Node failure",
            },
            follow=True,
        )
        refund = CreditRefund.objects.get()
        self.assertContains(response, f"Refund #{refund.pk} of 2 hours of usage (20 credits) requested")
        self.assertEqual(sorted(refund.records.values_list("hour", flat=True)), hours[-2:])
        self.assertEqual(sorted(refund.debits.values_list("usage_records__hour", flat=True)), hours[-2:])
        self.assertEqual(self.refresh(account).balance, D("5000") - 8 * 10)  # nothing reversed before a co-chair
        # The co-chairs see what it gives back before they decide; the account page says it too.
        self.client.force_login(self.public_chair)
        self.assertContains(self.client.get("/compute/requests/awaiting/"), "2 hours, 20 credits")
        self.assertContains(self.client.get(url), f"#{refund.pk} Requested: 2 hours of usage, 20 credits.")

    def test_a_refund_for_hours_without_usage_or_backwards_is_refused_and_records_nothing(self):
        self.approve(self.request_credits(5000))
        self.use_hours(2)  # two hours of use, six hours apart
        account = self.account()
        earlier, later = sorted(
            LedgerTransaction.objects.filter(kind="usage", entries__account=account).values_list(
                "usage_records__hour", flat=True
            )
        )
        self.client.force_login(self.staff)
        hour = datetime.timedelta(hours=1)
        for start, end, message in (
            (later + hour, later, "The fault ends after it begins."),
            (earlier + 2 * hour, earlier + 3 * hour, "No usage of that resource was charged"),
            (later - 9 * 24 * hour, later - 8 * 24 * hour, "older than 7 days"),
        ):
            response = self.client.post(
                f"/compute/accounts/{account.pk}/refund/",
                {
                    "resource": self.gpu.pk,
                    "fault_start": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
                    "fault_end": timezone.localtime(end).strftime("%Y-%m-%dT%H:%M"),
                    "reason": "Node failure",
                },
                follow=True,
            )
            self.assertContains(response, message)
        self.assertFalse(CreditRefund.objects.exists())

    def test_people_outside_the_charter_cannot_open_its_account(self):
        self.approve(self.request_credits(100))
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(f"/compute/accounts/{self.account().pk}/").status_code, 404)

    def test_the_pool_page_splits_allocations_by_the_sector_of_the_lead(self):
        self.approve(self.request_credits(6000))  # council: public
        self.approve(self.request_credits(4000, by=self.private_staff, charter=self.restricted))  # Helios: private
        self.client.force_login(self.private_member)
        response = self.client.get(f"/compute/pools/{self.pool.pk}/")
        split = {row["sector"]: row for row in response.context["split"]}
        self.assertEqual((split["public"]["allocated"], split["public"]["share"]), (D("6000"), D("6.0")))
        self.assertEqual((split["private"]["allocated"], split["private"]["share"]), (D("4000"), D("4.0")))
        self.assertContains(response, "<strong>90,000</strong>")

    def test_the_oversubscription_view_compares_awards_with_capacity(self):
        # The CPU pool: 2,048 cores over the pool's 181 days is 8,896,512 core-hours, which
        # at 0.05 credits is 444,825.6 credits; award less, then more than the pool can. (The
        # two awards stay within the charter's dual-control limit together.)
        self.approve(self.request_credits(5000, resource=self.cpu))
        self.client.force_login(self.public_member)
        rows = {row["resource"].name: row for row in self.client.get("/compute/oversubscription/").context["rows"]}
        self.assertEqual(rows["Baltic CPU pool"]["awarded_hours"], D("100000"))
        self.assertFalse(rows["Baltic CPU pool"]["oversubscribed"])
        small = resources.create_resource(
            self.admin, name="Tiny cluster", kind="gpu_cluster", capacity=D("1"), jurisdiction="EU", rate=D("1")
        )
        self.approve(self.request_credits(5000, resource=small))
        response = self.client.get("/compute/oversubscription/")
        rows = {row["resource"].name: row for row in response.context["rows"]}
        self.assertTrue(rows["Tiny cluster"]["oversubscribed"])
        self.assertContains(response, "Oversubscribed")

    def test_the_resource_list_shows_current_past_and_scheduled_rates(self):
        now = timezone.now()
        resources.set_rate(self.admin, self.cpu, rate=D("0.06"), effective_from=now - datetime.timedelta(days=1))
        resources.set_rate(self.admin, self.cpu, rate=D("0.08"), effective_from=now + datetime.timedelta(days=30))
        self.client.force_login(self.staff)
        response = self.client.get("/compute/resources/")
        self.assertContains(response, "<strong>0.06</strong> credits per core-hour")
        self.assertContains(response, "Scheduled")
        self.assertContains(response, "Past")

    def test_credit_pages_have_labelled_navigation_and_no_inline_script(self):
        self.approve(self.request_credits(100))
        self.client.force_login(self.auditor)
        for url in (
            "/compute/credits/",
            "/compute/requests/new/",
            "/compute/requests/",
            "/compute/requests/awaiting/",
            "/compute/pools/",
            f"/compute/pools/{self.pool.pk}/",
            f"/compute/accounts/{self.account().pk}/",
            "/compute/oversubscription/",
            "/compute/resources/",
        ):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200, url)
            self.assertContains(response, '<nav aria-label="Credits"', msg_prefix=url)
            html = response.content.decode()
            for script in html.split("<script")[1:]:
                head = script.split(">", 1)[0]
                self.assertTrue("src=" in head or 'type="application/json"' in head, f"{url}: inline script {head}")

    def test_the_admin_shows_the_ledger_read_only(self):
        self.approve(self.request_credits(100))
        self.client.force_login(self.admin)
        for model in ("resource", "creditpool", "ledgertransaction", "creditaccount", "creditrequest", "usagerecord"):
            self.assertEqual(self.client.get(f"/admin/compute/{model}/").status_code, 200, model)
        txn = self.charter.credit_requests.get().allocation
        page = self.client.get(f"/admin/compute/ledgertransaction/{txn.pk}/change/")
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, 'name="_save"')
        self.assertEqual(self.client.get("/admin/compute/ledgertransaction/add/").status_code, 403)


class LedgerReversalPageTests(CreditsTestCase):
    """A proposed reversal reaches each co-chair's inbox and the awaiting page, and is written
    only after both have approved there."""

    def test_both_co_chairs_approve_a_reversal_from_their_pages(self):
        self.approve(self.request_credits(1000))
        hour = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=2)
        debit = usage.post_usage(source="probe", resource=self.gpu, charter=self.charter, hour=hour, unit_hours=D("4"))
        proposal = refunds.propose_reversal(self.admin, debit, memo="Counted twice by the collector")
        for chair in (self.public_chair, self.private_chair):
            self.client.force_login(chair)
            home = self.client.get("/")
            self.assertContains(home, f"Reversal of transaction #{debit.pk}")
            page = self.client.get("/compute/requests/awaiting/")
            self.assertContains(page, "Counted twice by the collector")
            self.assertContains(page, "data-confirm=")
        self.client.force_login(self.public_chair)
        response = self.client.post(f"/compute/reversals/{proposal.pk}/approve/", follow=True)
        self.assertContains(response, "the other sector&#x27;s co-chair decides next")
        self.assertNotContains(self.client.get("/"), f"Reversal of transaction #{debit.pk}")  # done for this sector
        self.assertFalse(LedgerTransaction.objects.filter(reverses=debit).exists())
        self.client.force_login(self.private_chair)
        response = self.client.post(f"/compute/reversals/{proposal.pk}/approve/", follow=True)
        self.assertContains(response, f"Transaction #{debit.pk} is reversed")
        self.assertEqual(LedgerReversal.objects.get().status, RefundStatus.APPROVED)
        self.client.force_login(self.staff)
        self.assertEqual(self.client.post(f"/compute/reversals/{proposal.pk}/approve/").status_code, 404)
