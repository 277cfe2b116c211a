"""The credit API of DESIGN.md section 3: who sees and does what, the answers' shapes, and list
query counts that do not grow with the rows."""

import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compute.choices import ResourceKind
from compute.models import LedgerTransaction, UsageRecord
from compute.services.credits import batches, pools, resources, usage
from tests.compute.credits import CreditsTestCase

D = Decimal


class CreditApiTests(CreditsTestCase):
    def new_request(self, client, amount="5000", resource=None):
        return client.post(
            "/api/credit-requests/",
            {
                "charter": self.charter.pk,
                "resource": (resource or self.gpu).pk,
                "pool": self.pool.pk,
                "amount": amount,
                "justification": "Ensemble forecasts for the spring floods.",
            },
        )

    def hourly_usage(self, hours):
        start = timezone.now().replace(minute=0, second=0, microsecond=0)
        for n in range(hours):
            usage.post_usage(
                source="test",
                resource=self.cpu,
                charter=self.charter,
                hour=start - datetime.timedelta(hours=n + 1),
                unit_hours=D("10"),
            )

    # Anonymous and outsiders

    def test_anonymous_callers_get_401_everywhere(self):
        for path in (
            "/api/resources/",
            "/api/credit-pools/",
            "/api/credit-accounts/",
            "/api/credit-transactions/",
            "/api/credit-requests/",
        ):
            self.assertEqual(self.api().get(path).status_code, 401, path)

    def test_the_ledger_is_read_only_over_the_api(self):
        self.approve(self.request_credits(1000))
        txn = LedgerTransaction.objects.first()
        client = self.api(self.admin)
        self.assertEqual(client.post("/api/credit-transactions/", {}).status_code, 405)
        self.assertEqual(client.patch(f"/api/credit-transactions/{txn.pk}/", {"memo": "x"}).status_code, 405)
        self.assertEqual(client.delete(f"/api/credit-transactions/{txn.pk}/").status_code, 405)
        self.assertEqual(client.post("/api/credit-accounts/", {}).status_code, 405)

    # Requests, end to end

    def test_a_staff_member_drafts_submits_and_the_co_chairs_sign(self):
        sam = self.api(self.staff)
        response = self.new_request(sam)
        self.assertEqual(response.status_code, 201, response.json())
        body = response.json()
        self.assertEqual((body["status"], body["approved_amount"], body["needs_ballot"]), ("draft", None, False))
        self.assertEqual(body["period_end"], self.pool.period_end.isoformat())
        pk = body["id"]
        self.assertEqual(sam.post(f"/api/credit-requests/{pk}/submit/").json()["status"], "submitted")
        self.assertEqual(self.api(self.private_member).post(f"/api/credit-requests/{pk}/sign/").status_code, 403)
        self.assertEqual(
            self.api(self.public_chair).post(f"/api/credit-requests/{pk}/sign/").json()["status"], "submitted"
        )
        body = self.api(self.private_chair).post(f"/api/credit-requests/{pk}/sign/", {}).json()
        self.assertEqual((body["status"], body["approved_amount"]), ("approved", "5000.0000"))
        self.assertEqual({sig["sector"] for sig in body["signatures"]}, {"public", "private"})
        account = self.api(self.staff).get(f"/api/credit-accounts/?charter={self.charter.pk}").json()["results"][0]
        self.assertEqual((account["balance"], account["allocated"]), ("5000.0000", "5000.0000"))

    def test_a_partial_award_through_the_api_keeps_both_amounts(self):
        pk = self.request_credits(8000).pk
        self.api(self.public_chair).post(
            f"/api/credit-requests/{pk}/sign/", {"amount": "5000", "reason_code": "pool_limited", "note": "Half now"}
        )
        body = self.api(self.private_chair).post(f"/api/credit-requests/{pk}/sign/").json()
        self.assertEqual(
            (body["status"], body["amount"], body["approved_amount"], body["reason_code"]),
            ("partially_approved", "8000.0000", "5000.0000", "pool_limited"),
        )

    def test_the_schema_allows_the_blank_reason_of_an_undecided_request(self):
        # A draft answers "reason_code": "", which the schema's enum refused (found by
        # tests/test_api_fuzz.py).
        self.assertEqual(self.new_request(self.api(self.staff)).json()["reason_code"], "")
        self.client.force_login(self.staff)
        schema = self.client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
        reason = schema["components"]["schemas"]["CreditRequest"]["properties"]["reason_code"]
        self.assertIn({"$ref": "#/components/schemas/BlankEnum"}, reason["oneOf"])

    def test_an_award_the_pool_cannot_fund_is_409_with_the_available_amount(self):
        pk = self.request_credits(5000).pk
        pools.update_pool(self.admin, self.pool, total=D("4000"))  # the pool shrank after the request
        self.api(self.public_chair).post(f"/api/credit-requests/{pk}/sign/")
        response = self.api(self.private_chair).post(f"/api/credit-requests/{pk}/sign/")
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["available"], "4000.0000")
        self.assertIn("has only 4,000 credits available", response.json()["detail"])

    def test_a_request_above_what_the_pool_holds_is_refused_with_the_figure(self):
        response = self.new_request(self.api(self.staff), amount="500000")
        self.assertEqual(response.status_code, 400)
        self.assertIn("has 100,000 credits available", response.json()["detail"])

    def test_refusals_are_400_with_the_reason(self):
        response = self.new_request(self.api(self.staff), resource=self.us_gpu)
        self.assertEqual(response.status_code, 400)
        self.assertIn("outside the charter's allowed jurisdictions", response.json()["detail"])
        self.assertEqual(self.new_request(self.api(self.staff), amount="-5").status_code, 400)
        self.assertEqual(self.new_request(self.api(self.outsider)).status_code, 403)

    def test_signing_above_the_limit_is_409(self):
        pk = self.request_credits(20000).pk
        response = self.api(self.public_chair).post(f"/api/credit-requests/{pk}/sign/")
        self.assertEqual((response.status_code, response.json()["code"]), (409, "needs_ballot"))

    def test_only_the_requester_withdraws(self):
        pk = self.request_credits(1000).pk
        self.assertEqual(self.api(self.private_staff).post(f"/api/credit-requests/{pk}/withdraw/").status_code, 403)
        self.assertEqual(
            self.api(self.staff).post(f"/api/credit-requests/{pk}/withdraw/").json()["status"], "withdrawn"
        )
        self.assertEqual(self.api(self.staff).post(f"/api/credit-requests/{pk}/withdraw/").status_code, 409)

    def test_drafts_are_seen_by_their_organization_only(self):
        pk = self.request_credits(1000, submit=False).pk
        self.assertEqual(self.api(self.public_member).get(f"/api/credit-requests/{pk}/").status_code, 200)  # council
        self.assertEqual(self.api(self.private_member).get(f"/api/credit-requests/{pk}/").status_code, 404)

    # Accounts and the ledger

    def test_staff_see_their_charters_accounts_and_auditors_see_all(self):
        self.approve(self.request_credits(1000))
        pools.open_account(self.restricted)
        sam = {a["charter"] for a in self.api(self.staff).get("/api/credit-accounts/").json()["results"]}
        self.assertEqual(sam, {self.charter.pk})
        uma = self.api(self.auditor).get("/api/credit-accounts/?kind=charter").json()["results"]
        self.assertEqual({a["charter"] for a in uma}, {self.charter.pk, self.restricted.pk})
        self.assertEqual(self.api(self.outsider).get("/api/credit-accounts/").json()["count"], 0)
        sam_ledger = self.api(self.staff).get("/api/credit-transactions/").json()["results"]
        self.assertEqual([t["kind"] for t in sam_ledger], ["allocation"])
        self.assertEqual(sum(D(e["amount"]) for e in sam_ledger[0]["entries"]), 0)

    def test_a_usage_debit_shows_its_rate_and_the_account_its_forecast(self):
        self.approve(self.request_credits(1000))
        self.hourly_usage(3)  # 3 × 10 core-hours × 0.05 = 1.5 credits
        account = self.account()
        body = self.api(self.staff).get(f"/api/credit-accounts/{account.pk}/").json()
        self.assertEqual((body["consumed"], body["balance"]), ("1.5000", "998.5000"))
        self.assertEqual(body["burn_rate"], "0.1071")
        usage = self.api(self.staff).get(f"/api/credit-transactions/?account={account.pk}&kind=usage").json()
        self.assertEqual(usage["count"], 3)
        self.assertEqual(usage["results"][0]["usage"]["rate_value"], "0.0500")

    def test_list_query_counts_do_not_grow_with_rows(self):
        self.approve(self.request_credits(1000))
        self.hourly_usage(2)
        client = self.api(self.auditor)
        paths = ["/api/credit-transactions/", "/api/credit-accounts/", "/api/credit-requests/", "/api/resources/"]
        paths.append("/api/credit-pools/")
        before = {}
        for path in paths:
            client.get(path)  # warm the person's permission cache, which any first request fills
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(client.get(path).status_code, 200)
            before[path] = len(queries)
        self.hourly_usage(12)
        for n in range(3):
            self.approve(self.request_credits(100 + n))
            pools.open_account(self.restricted)
        resources.create_resource(
            self.admin,
            name="Tape archive",
            kind=ResourceKind.STORAGE,
            capacity=D("900"),
            jurisdiction="EU",
            rate=D("1"),
        )
        for path in paths:
            with self.assertNumQueries(before[path]):
                client.get(path)

    # Resources and pools

    def test_resources_show_current_and_past_rates_and_only_admins_change_them(self):
        resources.set_rate(
            self.admin, self.gpu, rate=D("3"), effective_from=timezone.now() + datetime.timedelta(days=7)
        )
        body = self.api(self.staff).get(f"/api/resources/{self.gpu.pk}/").json()
        self.assertEqual(body["current_rate"], "2.5000")
        self.assertEqual([r["rate"] for r in body["rates"]], ["3.0000", "2.5000"])
        self.assertEqual(body["unit"], "GPU-hour")
        self.assertEqual(
            self.api(self.staff).post(f"/api/resources/{self.gpu.pk}/rates/", {"rate": "1"}).status_code, 403
        )
        response = self.api(self.admin).post(f"/api/resources/{self.cpu.pk}/rates/", {"rate": "0.07"})
        self.assertEqual(response.status_code, 201, response.json())
        self.assertEqual(
            self.api(self.staff).patch(f"/api/resources/{self.gpu.pk}/", {"capacity": "1"}).status_code, 403
        )

    def test_co_chairs_open_pools_and_staff_cannot(self):
        data = {
            "committee": self.committee.pk,
            "name": "2027 budget",
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
            "total": "50000",
        }
        self.assertEqual(self.api(self.staff).post("/api/credit-pools/", data).status_code, 403)
        response = self.api(self.public_chair).post("/api/credit-pools/", data)
        self.assertEqual(response.status_code, 201, response.json())
        self.assertEqual((response.json()["available"], response.json()["state"]), ("50000.0000", "upcoming"))
        bad = self.api(self.public_chair).post("/api/credit-pools/", {**data, "name": "x", "period_end": "2026-01-01"})
        self.assertEqual(bad.status_code, 400)

    def test_a_pool_total_cannot_drop_below_what_is_allocated(self):
        self.approve(self.request_credits(10000))
        response = self.api(self.public_chair).patch(f"/api/credit-pools/{self.pool.pk}/", {"total": "5000"})
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["available"], "90000.0000")

    # Transfers and refunds

    def test_a_transfer_and_a_refund_through_the_api(self):
        from tests.compute.credits import make_charter

        wind = make_charter(self.body, "Wind farm siting", lead=self.orgs.helios)
        self.approve(self.request_credits(1000))
        source, target = self.account(), pools.open_account(wind)
        response = self.api(self.staff).post(
            "/api/credit-transfers/",
            {"source": source.pk, "target": target.pk, "amount": "100", "reason": "Shared run"},
        )
        self.assertEqual(response.status_code, 201, response.json())
        done = self.api(self.private_staff).post(f"/api/credit-transfers/{response.json()['id']}/consent/").json()
        self.assertEqual(done["status"], "completed")
        self.hourly_usage(1)
        debit = LedgerTransaction.objects.get(kind="usage")
        refund = self.api(self.staff).post(
            "/api/credit-refunds/", {"account": source.pk, "debits": [debit.pk], "reason": "Node died"}
        )
        self.assertEqual(refund.status_code, 201, refund.json())
        pk = refund.json()["id"]
        self.assertEqual(self.api(self.staff).post(f"/api/credit-refunds/{pk}/approve/").status_code, 403)
        self.assertEqual(
            self.api(self.public_chair).post(f"/api/credit-refunds/{pk}/approve/").json()["status"], "requested"
        )
        self.assertEqual(
            self.api(self.private_chair).post(f"/api/credit-refunds/{pk}/approve/").json()["status"], "approved"
        )
        self.assertEqual(self.refresh(source).balance, D("900"))

    def test_a_refund_of_some_hours_of_a_batch_debit_through_the_api(self):
        self.approve(self.request_credits(1000))
        account = self.account()
        start = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=4)
        usage.post_usage_batch(
            [
                batches.usage_line(
                    source="slurm",
                    resource_id=self.gpu.pk,
                    charter_id=self.charter.pk,
                    hour=start + datetime.timedelta(hours=h),
                    unit_hours="4",
                )  # fmt: skip
                for h in range(3)
            ],
            source="slurm",
        )
        records = list(UsageRecord.objects.filter(charter=self.charter).order_by("hour"))
        debit = self.api(self.staff).get(f"/api/credit-transactions/?account={account.pk}&kind=usage").json()
        self.assertEqual(sum(t["usage_records"] for t in debit["results"]), 3)  # one debit per day of the batch
        for txn in debit["results"]:  # a day's debit of several hours names no one record
            if txn["usage_records"] > 1:
                self.assertIsNone(txn["usage"])
            else:
                self.assertEqual(txn["usage"]["unit_hours"], "4.0000")
        asked = self.api(self.staff).post(
            "/api/credit-refunds/", {"account": account.pk, "records": [records[0].pk], "reason": "Node died"}
        )
        self.assertEqual(asked.status_code, 201, asked.json())
        self.assertEqual((asked.json()["records"], asked.json()["credits"]), ([records[0].pk], "10.0000"))
        pk = asked.json()["id"]
        for chair in (self.public_chair, self.private_chair):
            self.assertEqual(self.api(chair).post(f"/api/credit-refunds/{pk}/approve/").status_code, 200)
        self.assertEqual(self.refresh(account).balance, D("1000") - D("30") + D("10"))
        again = self.api(self.staff).post(
            "/api/credit-refunds/", {"account": account.pk, "records": [records[0].pk], "reason": "Again"}
        )
        self.assertEqual(again.status_code, 400, again.json())
        self.assertIn("Already refunded", str(again.json()))
        nothing = self.api(self.staff).post("/api/credit-refunds/", {"account": account.pk, "reason": "What?"})
        self.assertEqual(nothing.status_code, 400, nothing.json())

    def test_a_reversal_through_the_api_needs_both_co_chairs(self):
        self.approve(self.request_credits(1000))
        account = self.account()
        self.hourly_usage(1)
        debit = LedgerTransaction.objects.get(kind="usage")
        before = self.refresh(account).balance
        self.assertEqual(
            self.api(self.public_chair).post("/api/ledger-reversals/", {"original": debit.pk, "memo": "x"}).status_code,
            403,
        )
        bad = self.api(self.admin).post("/api/ledger-reversals/", {"original": debit.pk, "memo": ""})
        self.assertEqual(bad.status_code, 400, bad.json())
        self.assertIn("memo", bad.json()["errors"])
        created = self.api(self.admin).post("/api/ledger-reversals/", {"original": debit.pk, "memo": "Double count"})
        self.assertEqual(created.status_code, 201, created.json())
        proposal = created.json()
        self.assertEqual((proposal["status"], proposal["committee"]), ("requested", self.committee.pk))
        again = self.api(self.admin).post("/api/ledger-reversals/", {"original": debit.pk, "memo": "Twice"})
        self.assertEqual(again.status_code, 409, again.json())
        url = f"/api/ledger-reversals/{proposal['id']}/approve/"
        self.assertEqual(self.api(self.admin).post(url).status_code, 403)
        self.assertEqual(self.api(self.staff).post(url).status_code, 404)  # not theirs to see
        half = self.api(self.public_chair).post(url, {"note": "Checked"}, format="json").json()
        self.assertEqual(
            (half["status"], half["approved_by_sectors"], half["reversal"]), ("requested", ["public"], None)
        )
        self.assertEqual(self.refresh(account).balance, before)
        done = self.api(self.private_chair).post(url).json()
        self.assertEqual(done["status"], "approved")
        self.assertEqual(LedgerTransaction.objects.get(pk=done["reversal"]).reverses_id, debit.pk)
        self.assertGreater(self.refresh(account).balance, before)
        listed = self.api(self.auditor).get("/api/ledger-reversals/").json()
        self.assertEqual([row["id"] for row in listed["results"]], [proposal["id"]])
