"""At or below the dual-control limit, a request is approved when the co-chairs of both
sectors have signed; the second signature allocates from the pool in the same transaction."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from compute.choices import DecisionReason, RequestStatus, TransactionKind
from compute.services.credits import pools, requests
from governance.exceptions import DomainError
from tests.compute.credits import CreditsTestCase

D = Decimal


class DualControlTests(CreditsTestCase):
    def test_one_signature_does_nothing_but_wait_for_the_other_sector(self):
        request = self.request_credits(5000)
        requests.sign_request(self.public_chair, request)
        request = self.refresh(request)
        self.assertEqual(request.status, RequestStatus.SUBMITTED)
        self.assertIsNone(request.allocation)
        self.assertEqual(self.refresh(self.pool).available, D("100000"))

    def test_one_co_chair_per_sector_approves_and_allocates_in_one_step(self):
        request = self.approve(self.request_credits(5000))
        request = self.refresh(request)
        self.assertEqual(request.status, RequestStatus.APPROVED)
        self.assertEqual(request.approved_amount, D("5000"))
        self.assertEqual(request.allocation.kind, TransactionKind.ALLOCATION)
        self.assertEqual(self.account().balance, D("5000"))
        self.pool.refresh_from_db()
        self.assertEqual(self.pool.account.balance, D("95000"))

    def test_two_signatures_from_one_sector_do_nothing(self):
        # A second public co-chair: the committee is then not constituted, so no co-chair's
        # signature counts at all, and two public signatures never approve.
        from governance import services
        from governance.choices import Role

        pia = services.create_user(
            self.admin, username="pia", password="a-long-pass-phrase", organization=self.orgs.council
        )
        services.add_membership(
            self.admin,
            user=pia,
            committee=self.committee,
            organization=self.orgs.council,
            role=Role.CHAIR,
            term_start=self.term_start,
        )
        request = self.request_credits(5000)
        for chair in (self.public_chair, pia):
            with self.assertRaisesMessage(DomainError, "not constituted"):
                requests.sign_request(chair, request)
        request = self.refresh(request)
        self.assertEqual(request.status, RequestStatus.SUBMITTED)
        self.assertEqual(request.signatures.count(), 0)
        self.assertEqual(self.refresh(self.pool).available, D("100000"))

    def test_a_co_chair_cannot_sign_twice(self):
        request = self.request_credits(5000)
        requests.sign_request(self.public_chair, request)
        with self.assertRaisesMessage(DomainError, "already signed"):
            requests.sign_request(self.public_chair, request)

    def test_members_staff_and_the_secretary_cannot_sign(self):
        request = self.request_credits(5000)
        for person in (self.public_member, self.private_member, self.secretary, self.staff, self.outsider):
            with self.assertRaises(PermissionDenied):
                requests.sign_request(person, request)

    def test_a_draft_cannot_be_signed(self):
        request = self.request_credits(5000, submit=False)
        with self.assertRaisesMessage(DomainError, "Only a submitted request can be signed"):
            requests.sign_request(self.public_chair, request)

    def test_above_the_limit_signatures_are_refused_and_a_ballot_is_needed(self):
        request = self.request_credits(20000)
        with self.assertRaisesMessage(DomainError, "Only a passed ballot approves this request"):
            requests.sign_request(self.public_chair, request)

    @override_settings(DUAL_CONTROL_LIMIT=D("30000"))
    def test_the_limit_is_read_when_signing_not_at_import(self):
        request = self.approve(self.request_credits(20000))
        self.assertEqual(self.refresh(request).status, RequestStatus.APPROVED)

    def test_exactly_the_limit_is_still_dual_control(self):
        request = self.approve(self.request_credits(10000))
        self.assertEqual(self.refresh(request).status, RequestStatus.APPROVED)

    def test_a_partial_award_keeps_both_amounts_with_the_reason(self):
        request = self.request_credits(8000)
        requests.sign_request(
            self.public_chair,
            request,
            amount="6000",
            reason_code=DecisionReason.SCOPE_REDUCED,
            note="Two runs, not three.",
        )
        requests.sign_request(self.private_chair, request)
        request = self.refresh(request)
        self.assertEqual(request.status, RequestStatus.PARTIALLY_APPROVED)
        self.assertEqual((request.amount, request.approved_amount), (D("8000"), D("6000")))
        self.assertEqual(request.reason_code, DecisionReason.SCOPE_REDUCED)
        self.assertEqual(request.decision_note, "Two runs, not three.")
        self.assertEqual(self.account().balance, D("6000"))

    def test_a_partial_award_must_say_why(self):
        request = self.request_credits(8000)
        with self.assertRaisesMessage(ValidationError, "Say why"):
            requests.sign_request(self.public_chair, request, amount="6000")

    def test_an_award_above_the_request_is_refused(self):
        request = self.request_credits(8000)
        with self.assertRaisesMessage(ValidationError, "award at most that"):
            requests.sign_request(self.public_chair, request, amount="9000")

    def test_an_approval_the_pool_cannot_fund_fails_whole_with_the_available_amount(self):
        request = self.request_credits(5000)
        pools.update_pool(self.admin, self.pool, total=D("3000"))  # the pool shrank after the request
        requests.sign_request(self.public_chair, request)
        with self.assertRaises(DomainError) as caught:
            requests.sign_request(self.private_chair, request)
        self.assertEqual(caught.exception.status_code, 409)
        self.assertEqual(caught.exception.extra["available"], "3000.0000")
        request = self.refresh(request)
        self.assertEqual(request.status, RequestStatus.SUBMITTED)
        # The second signature was not kept either: nothing happened.
        self.assertEqual(request.signatures.count(), 1)

    def test_one_co_chair_can_reject(self):
        request = self.request_credits(5000)
        requests.reject_request(self.private_chair, request, reason_code=DecisionReason.INSUFFICIENT_JUSTIFICATION)
        self.assertEqual(self.refresh(request).status, RequestStatus.REJECTED)
        with self.assertRaises(DomainError):
            requests.sign_request(self.public_chair, request)

    def test_the_requester_can_withdraw_until_a_decision(self):
        request = self.request_credits(5000)
        requests.sign_request(self.public_chair, request)
        requests.withdraw_request(self.staff, request)
        self.assertEqual(self.refresh(request).status, RequestStatus.WITHDRAWN)
        decided = self.approve(self.request_credits(1000))
        with self.assertRaisesMessage(DomainError, "cannot go from 'approved' to 'withdrawn'"):
            requests.withdraw_request(self.staff, decided)
