"""The numbers of the credit pages on constructed histories: forecasts only from a real burn,
the day an account ran out, one current alert state, pending demand, the decision page."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from compute import selectors
from compute.services.credits import requests, resources, transfers, usage
from tests.compute.credits import CreditsTestCase, make_charter

D = Decimal


class NumberTests(CreditsTestCase):
    def use(self, unit_hours, *, days_ago: float, charter=None):
        """Usage on the EU GPUs (2.5 credits a GPU-hour) at a moment `days_ago` in the past."""
        hour = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(days=days_ago, hours=1)
        usage.post_usage(
            source="test", resource=self.gpu, charter=charter or self.charter, hour=hour, unit_hours=D(unit_hours)
        )

    def account_page(self):
        self.client.force_login(self.staff)
        return self.client.get(f"/compute/accounts/{self.account().pk}/")

    # --- forecasts -----------------------------------------------------------------------

    def test_a_steady_burn_forecasts_the_day_the_balance_runs_out_and_draws_the_dashed_line(self):
        self.approve(self.request_credits(1000))
        for day in range(14):
            self.use("4", days_ago=day)  # 10 credits a day: 860 left, 86 days
        response = self.account_page()
        expected = timezone.localdate() + datetime.timedelta(days=86)
        self.assertContains(response, f"{expected:%-d %b %Y}</time> at the current burn rate")
        chart = response.context["chart"]
        self.assertEqual(chart["forecast"]["days"], [timezone.localdate().isoformat(), expected.isoformat()])
        self.assertContains(response, "the dashed line is the forecast")

    def test_no_burn_means_no_forecast_and_no_promise_of_a_line(self):
        self.approve(self.request_credits(1000))
        self.use("4", days_ago=30)  # outside the 14-day window
        response = self.account_page()
        self.assertContains(response, "None: nothing consumed in the last 14 days")
        self.assertNotContains(response, "Forecast exhaustion</dt><dd><time")
        self.assertNotContains(response, "the dashed line is the forecast")
        self.assertEqual(response.context["chart"]["forecast"]["days"], [])

    def test_an_overdrawn_account_says_the_day_it_ran_out_instead_of_a_forecast(self):
        self.approve(self.request_credits(1000))
        self.use("600", days_ago=0)  # 1,500 credits against 1,000, after the award
        response = self.account_page()
        today = timezone.localdate()
        self.assertEqual(response.context["exhausted_on"], today)
        self.assertContains(response, f"{today:%-d %b %Y}</time>")
        self.assertContains(response, "Exhausted</dt>")
        self.assertNotContains(response, "Forecast exhaustion")
        self.assertIsNone(selectors.forecast_exhaustion(self.account()))
        self.assertEqual(response.context["chart"]["forecast"]["days"], [])

    def test_the_day_of_exhaustion_is_where_the_balance_last_fell_to_zero(self):
        days = [datetime.date(2026, 3, d) for d in (1, 5, 9, 12, 20)]
        balance = [D(1000), D(500), D(-10), D(40), D(-500)]
        self.assertEqual(selectors.exhausted_on(days, balance), datetime.date(2026, 3, 20))
        self.assertEqual(selectors.exhausted_on(days[:3], balance[:3]), datetime.date(2026, 3, 9))
        self.assertIsNone(selectors.exhausted_on(days[:4], balance[:4]))

    # --- alerts --------------------------------------------------------------------------

    def test_the_account_shows_one_current_alert_state_and_folds_the_history(self):
        self.approve(self.request_credits(1000))
        self.use("320", days_ago=2)  # 800 credits: 80 %, the 75 % alert
        self.use("60", days_ago=1)  # 950: 95 %, the 90 % alert too
        response = self.account_page()
        html = response.content.decode()
        self.assertIn("95.0 % of the allocation used</span> (past the 90 % threshold)", html)
        self.assertIn("<summary>Alerts raised so far (2)</summary>", html)
        self.assertEqual(response.context["state"].threshold, 90)

    # --- oversubscription ------------------------------------------------------------------

    def test_oversubscription_counts_what_pending_requests_ask_for(self):
        small = resources.create_resource(
            self.admin, name="Tiny cluster", kind="gpu_cluster", capacity=D("1"), jurisdiction="EU", rate=D("1")
        )
        self.request_credits(5000, resource=small)  # submitted, not decided: 5,000 unit-hours of 1 × 181 days
        self.client.force_login(self.public_member)
        response = self.client.get("/compute/oversubscription/")
        rows = {row["resource"].name: row for row in response.context["rows"]}
        self.assertFalse(rows["Tiny cluster"]["oversubscribed"])
        self.assertTrue(rows["Tiny cluster"]["over_demanded"])
        self.assertContains(response, "Oversubscribed if the pending requests are awarded")
        self.assertContains(response, "ask for <strong>5,000</strong>")

    # --- the decision page -------------------------------------------------------------------

    def test_the_co_chair_decides_with_the_balance_burn_awards_and_headroom_in_view(self):
        self.approve(self.request_credits(1000))
        for day in range(14):
            self.use("4", days_ago=day)
        self.request_credits(2000)  # another pending request
        asked = self.request_credits(3000)
        self.client.force_login(self.public_chair)
        response = self.client.get(f"/compute/requests/{asked.pk}/")
        html = response.content.decode()
        self.assertIn("Before you decide", html)
        self.assertIn("<dt>Balance</dt><dd>860 credits</dd>", html)
        self.assertIn("<dt>Burn (last 14 days)</dt><dd>10 credits a day</dd>", html)
        self.assertIn("1,000 of 1,000 credits", html)  # the earlier award
        self.assertIn("<dt>Available</dt><dd>99,000 credits</dd>", html)
        self.assertIn("<dt>Other pending requests</dt><dd>2,000 credits</dd>", html)
        self.assertIn("<dt>Headroom after this one</dt><dd>94,000 credits</dd>", html)

    def test_the_decision_page_says_what_transfers_did_to_the_allocation(self):
        # 1,000 awarded, 300 of it given to another charter: "Allocated 700" beside "1,000
        # awarded before" says why the two differ.
        self.approve(self.request_credits(1000))
        wind = make_charter(self.body, "Wind farm siting", lead=self.orgs.helios)
        self.approve(self.request_credits(500, by=self.private_staff, charter=wind))
        transfer = transfers.propose_transfer(
            self.staff, source=self.account(), target=self.account(wind), amount="300", reason="Shared run"
        )
        transfers.consent_transfer(self.private_staff, transfer)
        asked = self.request_credits(3000)
        self.client.force_login(self.public_chair)
        html = self.client.get(f"/compute/requests/{asked.pk}/").content.decode()
        self.assertIn("<dt>Allocated</dt><dd>700 credits (with 300 transferred out), 0 consumed", html)
        self.assertIn("1,000 credits awarded to this charter before.", html)
        theirs = self.request_credits(100, by=self.private_staff, charter=wind)
        html = self.client.get(f"/compute/requests/{theirs.pk}/").content.decode()
        self.assertIn("<dt>Allocated</dt><dd>800 credits (with 300 transferred in), 0 consumed", html)

    def test_the_reject_form_preselects_no_reason_and_offers_no_ballot_reason(self):
        asked = self.request_credits(3000)
        self.client.force_login(self.public_chair)
        response = self.client.get(f"/compute/requests/{asked.pk}/")
        form = response.context["reject_form"]
        self.assertEqual(form["reason_code"].value(), None)
        self.assertNotContains(response, "Rejected by ballot")
        self.assertContains(response, '<option value="" selected>Choose a reason</option>', html=True)
        refused = self.client.post(f"/compute/requests/{asked.pk}/reject/", {"note": "Kept"})
        self.assertEqual(refused.status_code, 400)
        self.assertContains(refused, "This field is required", status_code=400)
        self.assertContains(refused, "Kept", status_code=400)  # the typed note is kept

    def test_a_mistaken_signature_comes_back_inline_not_as_a_raw_flash(self):
        asked = self.request_credits(3000)
        self.client.force_login(self.public_chair)
        response = self.client.post(f"/compute/requests/{asked.pk}/sign/", {"amount": "-5", "note": "Half"})
        self.assertEqual(response.status_code, 400)
        self.assertNotContains(response, "* amount", status_code=400)
        self.assertContains(response, 'id="sign_amount_error"', status_code=400)
        self.assertEqual(requests.CreditRequest.objects.get(pk=asked.pk).signatures.count(), 0)

    # --- one number format -----------------------------------------------------------------

    def test_requested_credits_print_in_the_portal_s_one_format(self):
        self.charter.requested_credits = D("15000")
        self.charter.save()
        self.client.force_login(self.staff)
        for url in ("/charters/", f"/charters/{self.charter.pk}/"):
            response = self.client.get(url)
            self.assertContains(response, "15,000", msg_prefix=url)
            self.assertNotContains(response, "15000.00", msg_prefix=url)
