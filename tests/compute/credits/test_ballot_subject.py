"""compute.ballots answers a ballot's questions about a credit request (governance/subjects.py):
above the dual-control limit, a passed ballot approves and allocates exactly once."""

from decimal import Decimal

from django.test import override_settings

from compute import ballots
from compute.choices import DecisionReason, RequestStatus
from compute.models import LedgerTransaction
from compute.services.credits import pools, requests, verification
from governance import services
from governance.choices import Outcome, SubjectType
from governance.exceptions import DomainError
from governance.subjects import subject_module
from tests.compute.credits import CreditsTestCase

D = Decimal


class CreditRequestBallotTests(CreditsTestCase):
    def ballot_on(self, request, **votes):
        """Prepare and open a ballot on the request, and cast the votes given by persona."""
        ballot = services.create_ballot(
            self.secretary,
            committee=self.committee,
            title=f"Credits for request #{request.pk}",
            subject_type=SubjectType.CREDIT_REQUEST,
            subject_id=request.pk,
        )
        ballot = services.open_ballot(self.public_chair, ballot)
        for persona, choice in votes.items():
            services.cast_vote(getattr(self, persona), ballot, choice)
        return ballot

    def test_the_subject_module_of_a_credit_request_is_this_one(self):
        self.assertIs(subject_module(SubjectType.CREDIT_REQUEST), ballots)

    def test_the_parties_are_the_charter_lead_and_the_requesters_organization(self):
        request = self.request_credits(20000, by=self.private_staff)  # Tara of Helios, for the council's charter
        self.assertEqual(ballots.parties(ballots.get_subject(request.pk)), {self.orgs.council.pk, self.orgs.helios.pk})

    def test_a_ballot_opens_only_above_the_limit_on_a_submitted_request(self):
        small = self.request_credits(10000)
        with self.assertRaisesMessage(DomainError, "the two co-chairs sign it instead"):
            ballots.check_can_open(small)
        draft = self.request_credits(20000, submit=False)
        with self.assertRaisesMessage(DomainError, "Only a submitted credit request"):
            ballots.check_can_open(draft)
        ballots.check_can_open(self.request_credits(20000))

    @override_settings(DUAL_CONTROL_LIMIT=D("50000"))
    def test_the_limit_is_read_when_the_ballot_opens(self):
        with self.assertRaises(DomainError):
            ballots.check_can_open(self.request_credits(20000))

    def test_a_ballot_approved_request_allocates_once(self):
        request = self.request_credits(20000)
        # Carla (National Research Council) is recused: her organization leads the charter.
        ballot = self.ballot_on(request, public_chair="yes", private_chair="yes", private_member="yes")
        self.assertIn(self.public_member.pk, set(ballot.recusals.values_list("user_id", flat=True)))
        ballot = services.close_ballot(self.public_chair, ballot)
        self.assertEqual(ballot.outcome, Outcome.PASSED)
        request = self.refresh(request)
        self.assertEqual((request.status, request.approved_amount, request.ballot), ("approved", D("20000"), ballot))
        # Applying the outcome again (a re-run, a second close attempt) allocates nothing more.
        with self.assertRaises(DomainError):
            services.close_ballot(self.public_chair, ballot)
        ballots.apply_outcome(ballots.get_subject(request.pk, for_update=True), ballot, self.public_chair)
        self.assertEqual(LedgerTransaction.objects.filter(kind="allocation").count(), 1)
        self.assertEqual(self.account().balance, D("20000"))
        self.assertTrue(verification.verify_ledger().ok)

    def test_a_passed_ballot_awards_what_the_pool_still_holds(self):
        request = self.request_credits(20000)
        pools.update_pool(self.admin, self.pool, total=D("15000"))  # the pool shrank after the request
        ballot = self.ballot_on(request, public_chair="yes", private_chair="yes", private_member="yes")
        services.close_ballot(self.private_chair, ballot)
        request = self.refresh(request)
        self.assertEqual((request.status, request.approved_amount), (RequestStatus.PARTIALLY_APPROVED, D("15000")))
        self.assertEqual(request.reason_code, DecisionReason.POOL_LIMITED)

    def test_a_rejected_ballot_rejects_the_request(self):
        request = self.request_credits(20000)
        ballot = self.ballot_on(request, public_chair="no", private_chair="no", private_member="no")
        self.assertEqual(services.close_ballot(self.public_chair, ballot).outcome, Outcome.REJECTED)
        request = self.refresh(request)
        self.assertEqual(
            (request.status, request.reason_code), (RequestStatus.REJECTED, DecisionReason.BALLOT_REJECTED)
        )

    def test_a_deadlock_leaves_the_request_submitted_for_a_second_ballot(self):
        request = self.request_credits(20000)
        ballot = self.ballot_on(request, public_chair="yes", private_chair="no", private_member="no")
        ballot = services.close_ballot(self.public_chair, ballot)
        self.assertEqual(ballot.outcome, Outcome.DEADLOCKED)
        self.assertEqual(self.refresh(request).status, RequestStatus.SUBMITTED)
        second = services.open_ballot(self.public_chair, services.start_second_ballot(self.public_chair, ballot))
        for persona in ("public_chair", "private_chair", "private_member"):
            services.cast_vote(getattr(self, persona), second, "yes")
        services.close_ballot(self.public_chair, second)
        self.assertEqual(self.refresh(request).status, RequestStatus.APPROVED)

    def test_a_request_withdrawn_before_the_ballot_closes_is_not_funded(self):
        request = self.request_credits(20000)
        ballot = self.ballot_on(request, public_chair="yes", private_chair="yes", private_member="yes")
        requests.withdraw_request(self.staff, request)
        services.close_ballot(self.public_chair, ballot)
        self.assertEqual(self.refresh(request).status, RequestStatus.WITHDRAWN)
        self.assertFalse(LedgerTransaction.objects.filter(kind="allocation").exists())

    def test_no_ballot_opens_on_a_request_within_dual_control(self):
        request = self.request_credits(5000)
        ballot = services.create_ballot(
            self.secretary,
            committee=self.committee,
            title="Small request",
            subject_type=SubjectType.CREDIT_REQUEST,
            subject_id=request.pk,
        )
        with self.assertRaisesMessage(DomainError, "dual-control limit"):
            services.open_ballot(self.public_chair, ballot)

    def test_the_request_page_prepares_a_ballot_for_the_secretary(self):
        request = self.request_credits(20000)
        self.client.force_login(self.secretary)
        page = self.client.get(f"/compute/requests/{request.pk}/")
        self.assertContains(page, "Prepare a ballot on this request")
        response = self.client.post(f"/compute/requests/{request.pk}/ballot/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/ballots/", response["Location"])
        self.assertNotContains(self.client.get(f"/compute/requests/{request.pk}/"), "Prepare a ballot")

    def test_describe_and_url(self):
        request = self.request_credits(20000)
        self.assertEqual(
            ballots.describe(request),
            f"Credit request #{request.pk}: 20,000 credits on Aurora GPU cluster for Flood forecasting",
        )
        self.assertEqual(ballots.url(request), f"/compute/requests/{request.pk}/")
