"""Dual control means two independent people, and refunds need both sectors (DESIGN.md 2.7).

Each test is one of the attacks tried on the demo body, written as the rule it breaks; each
checks that the books did not move."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from compute.choices import RefundStatus, RequestStatus
from compute.models import CreditRequest
from compute.services.credits import refunds, requests, usage
from governance import services
from governance.exceptions import DomainError
from governance.models import Membership
from tests.compute.credits import CreditsTestCase, make_charter

D = Decimal


class IndependentSignersTests(CreditsTestCase):
    def test_a_co_chair_cannot_sign_a_request_she_made_herself(self):
        charter = make_charter(self.body, "Ministry triage", lead=self.orgs.council, created_by=self.staff)
        charter.participating_organizations.add(self.orgs.ministry)
        request = self.request_credits(3000, by=self.public_chair, charter=charter)
        with self.assertRaisesMessage(PermissionDenied, "You asked for these credits"):
            requests.sign_request(self.public_chair, request)
        self.assertFalse(request.signatures.exists())

    def test_a_co_chair_whose_organization_is_party_to_the_charter_sends_the_request_to_a_ballot(self):
        charter = make_charter(self.body, "Northwind forecasting", lead=self.orgs.northwind, created_by=self.staff)
        request = self.request_credits(3000, by=self.private_chair, charter=charter)
        response = self.api(self.public_chair).post(f"/api/credit-requests/{request.pk}/sign/", {}, format="json")
        self.assertEqual(response.status_code, 409, response.content)
        self.assertEqual(response.json()["code"], "needs_ballot")
        self.assertIn("party", response.json()["detail"])
        self.assertFalse(self.refresh(request).signatures.exists())
        self.assertTrue(CreditRequest.objects.get(pk=request.pk).needs_ballot)

    def test_splitting_a_need_into_small_requests_still_needs_a_ballot(self):
        self.approve(self.request_credits(6000))
        second = self.request_credits(6000)
        with self.assertRaisesMessage(DomainError, "already signed for this charter"):
            requests.sign_request(self.public_chair, second)
        self.assertEqual(self.refresh(second).status, RequestStatus.SUBMITTED)
        self.assertEqual(self.account().balance, D("6000"))
        # The ballot it needs can be opened.
        ballot = services.create_ballot(
            self.public_chair,
            committee=self.committee,
            title="Award 6,000 more credits",
            subject_type="credit_request",
            subject_id=second.pk,
        )
        self.assertEqual(services.open_ballot(self.public_chair, ballot).status, "open")

    def test_no_signature_counts_in_a_committee_that_is_not_constituted(self):
        request = self.request_credits(3000)
        # The private co-chair's term ends (the committee is still being set up, so the
        # administrator may): two public-side people must not make "dual control" of it.
        services.end_membership(self.admin, Membership.objects.get(user=self.private_chair, committee=self.committee))
        response = self.api(self.public_chair).post(f"/api/credit-requests/{request.pk}/sign/", {}, format="json")
        self.assertEqual(response.status_code, 409, response.content)
        self.assertIn("not constituted", response.json()["detail"])
        self.assertFalse(self.refresh(request).signatures.exists())


class RefundsNeedBothSectorsTests(CreditsTestCase):
    def setUp(self):
        self.approve(self.request_credits(1000))
        hour = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=2)
        self.debit = usage.post_usage(
            source="prometheus", resource=self.gpu, charter=self.charter, hour=hour, unit_hours=D("40")
        )

    def test_one_co_chair_cannot_refund_alone(self):
        refund = refunds.request_refund(self.public_chair, account=self.account(), debits=[self.debit], reason="Fault")
        before = self.account().balance
        response = self.api(self.public_chair).post(f"/api/credit-refunds/{refund.pk}/approve/", {}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], RefundStatus.REQUESTED)
        self.assertEqual(response.json()["approved_by_sectors"], ["public"])
        self.assertEqual(self.account().balance, before)
        again = self.api(self.public_chair).post(f"/api/credit-refunds/{refund.pk}/approve/", {}, format="json")
        self.assertEqual(again.status_code, 409, again.content)
        response = self.api(self.private_chair).post(f"/api/credit-refunds/{refund.pk}/approve/", {}, format="json")
        self.assertEqual(response.json()["status"], RefundStatus.APPROVED, response.content)
        self.assertEqual(self.account().balance, before + D("100"))

    def test_a_refund_outside_the_fault_window_is_refused_over_the_api(self):
        old_hour = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(days=30)
        old = usage.post_usage(
            source="prometheus", resource=self.gpu, charter=self.charter, hour=old_hour, unit_hours=D("10")
        )
        response = self.api(self.staff).post(
            "/api/credit-refunds/",
            {"account": self.account().pk, "debits": [old.pk], "reason": "July's outage"},
            format="json",
        )
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn("7 days", response.json()["detail"])
        self.assertFalse(self.account().refunds.exists())
