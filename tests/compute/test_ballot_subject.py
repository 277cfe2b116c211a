"""compute.ballots answers a ballot's questions about a credit request (governance/subjects.py):
above the dual-control limit, a passed ballot approves and allocates exactly once."""

from decimal import Decimal
from types import SimpleNamespace

from django.test import override_settings

from compute import ballots
from compute.choices import DecisionReason, RequestStatus
from compute.models import LedgerTransaction
from compute.services import ledger
from governance.exceptions import DomainError
from governance.subjects import subject_module
from tests.compute.credits import CreditsTestCase

D = Decimal


def closed_ballot(outcome: str, pk: int = 41):
    """What apply_outcome reads of a closed ballot: its id and outcome."""
    return SimpleNamespace(pk=pk, outcome=outcome)


class CreditRequestSubjectTests(CreditsTestCase):
    def test_the_subject_module_of_a_credit_request_is_this_one(self):
        self.assertIs(subject_module("credit_request"), ballots)

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

    def test_a_passed_ballot_approves_and_allocates_exactly_once(self):
        request = self.request_credits(20000)
        subject = ballots.get_subject(request.pk, for_update=True)
        ballots.apply_outcome(subject, closed_ballot("passed"), self.public_chair)
        ballots.apply_outcome(ballots.get_subject(request.pk), closed_ballot("passed"), self.public_chair)
        request = self.refresh(request)
        self.assertEqual((request.status, request.approved_amount, request.ballot_id), ("approved", D("20000"), 41))
        self.assertEqual(LedgerTransaction.objects.filter(kind="allocation").count(), 1)
        self.assertEqual(self.account().balance, D("20000"))

    def test_a_passed_ballot_awards_what_the_pool_still_holds(self):
        ledger.update_pool(self.admin, self.pool, total=D("15000"))
        request = self.request_credits(20000)
        ballots.apply_outcome(ballots.get_subject(request.pk), closed_ballot("passed"), None)
        request = self.refresh(request)
        self.assertEqual((request.status, request.approved_amount), (RequestStatus.PARTIALLY_APPROVED, D("15000")))
        self.assertEqual(request.reason_code, DecisionReason.POOL_LIMITED)

    def test_a_rejected_ballot_rejects_and_an_inconclusive_one_leaves_it_for_a_second_ballot(self):
        rejected, deadlocked = self.request_credits(20000), self.request_credits(30000)
        ballots.apply_outcome(ballots.get_subject(rejected.pk), closed_ballot("rejected"), None)
        ballots.apply_outcome(ballots.get_subject(deadlocked.pk), closed_ballot("deadlocked"), None)
        ballots.apply_outcome(ballots.get_subject(deadlocked.pk), closed_ballot("no_quorum"), None)
        self.assertEqual(self.refresh(rejected).status, RequestStatus.REJECTED)
        self.assertEqual(self.refresh(rejected).reason_code, DecisionReason.BALLOT_REJECTED)
        self.assertEqual(self.refresh(deadlocked).status, RequestStatus.SUBMITTED)

    def test_a_request_withdrawn_before_the_ballot_closes_is_not_funded(self):
        request = self.request_credits(20000)
        ledger.withdraw_request(self.staff, request)
        ballots.apply_outcome(ballots.get_subject(request.pk), closed_ballot("passed"), None)
        self.assertEqual(self.refresh(request).status, RequestStatus.WITHDRAWN)
        self.assertFalse(LedgerTransaction.objects.filter(kind="allocation").exists())

    def test_describe_and_url(self):
        request = self.request_credits(20000)
        self.assertEqual(
            ballots.describe(request),
            f"Credit request #{request.pk}: 20,000 credits on Aurora GPU cluster for Flood forecasting",
        )
        self.assertEqual(ballots.url(request), f"/compute/requests/{request.pk}/")
