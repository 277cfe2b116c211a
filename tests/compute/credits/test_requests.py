"""Credit requests are refused, with the reason, for a charter that is not approved or active,
a resource outside its allowed jurisdictions, or a non-TEE resource for restricted data."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError

from charters.choices import CharterStatus
from compute.choices import RequestStatus
from compute.services.credits import requests
from governance.exceptions import DomainError
from tests.compute.credits import CreditsTestCase

D = Decimal


class RequestRefusalTests(CreditsTestCase):
    def test_a_resource_outside_the_allowed_jurisdictions_is_refused_with_the_reason(self):
        with self.assertRaises(ValidationError) as caught:
            self.request_credits(1000, resource=self.us_gpu)
        self.assertEqual(
            caught.exception.message_dict["resource"],
            ["Frontier GPU cloud is in US, outside the charter's allowed jurisdictions (EU)."],
        )

    def test_restricted_data_runs_only_on_a_tee_capable_resource(self):
        with self.assertRaises(ValidationError) as caught:
            self.request_credits(1000, by=self.private_staff, charter=self.restricted, resource=self.cpu)
        self.assertIn("may run only on a TEE-capable resource", caught.exception.message_dict["resource"][0])
        request = self.request_credits(1000, by=self.private_staff, charter=self.restricted, resource=self.gpu)
        self.assertEqual(request.status, RequestStatus.SUBMITTED)

    def test_a_draft_charter_gets_no_credits(self):
        with self.assertRaises(ValidationError) as caught:
            self.request_credits(1000, charter=self.draft)
        self.assertIn("only to an approved or active charter", caught.exception.message_dict["charter"][0])

    def test_an_active_charter_may_request(self):
        self.charter.status = CharterStatus.ACTIVE
        self.charter.save()
        self.assertEqual(self.request_credits(1000).status, RequestStatus.SUBMITTED)

    def test_a_charter_suspended_after_submission_is_not_funded(self):
        request = self.request_credits(1000)
        self.charter.status = CharterStatus.SUSPENDED
        self.charter.save()
        requests.sign_request(self.public_chair, request)
        with self.assertRaisesMessage(DomainError, "only to an approved or active charter"):
            requests.sign_request(self.private_chair, request)

    def test_people_outside_the_charter_cannot_request_for_it(self):
        with self.assertRaises(PermissionDenied):
            self.request_credits(1000, by=self.outsider)
        with self.assertRaises(PermissionDenied):
            self.request_credits(1000, by=self.public_chair)  # Ministry is not on the flood charter

    def test_a_participating_organization_may_request(self):
        self.assertEqual(self.request_credits(1000, by=self.private_staff).status, RequestStatus.SUBMITTED)

    def test_the_period_must_lie_within_the_pool(self):
        with self.assertRaises(ValidationError) as caught:
            self.request_credits(
                1000, period_start=self.pool.period_start, period_end=self.pool.period_end + datetime.timedelta(days=1)
            )
        self.assertIn("within the pool's", caught.exception.message_dict["period_start"][0])

    def test_the_period_defaults_to_the_pool(self):
        request = self.request_credits(1000)
        self.assertEqual((request.period_start, request.period_end), (self.pool.period_start, self.pool.period_end))

    def test_a_draft_can_be_changed_by_its_requester_only(self):
        request = self.request_credits(1000, submit=False)
        requests.update_request(self.staff, request, amount="1500")
        self.assertEqual(self.refresh(request).amount, D("1500"))
        with self.assertRaises(PermissionDenied):
            requests.update_request(self.private_staff, request, amount="9")
        requests.submit_request(self.staff, request)
        with self.assertRaisesMessage(DomainError, "Only a draft"):
            requests.update_request(self.staff, request, amount="9")

    def test_submitting_twice_names_the_legal_moves(self):
        request = self.request_credits(1000)
        with self.assertRaisesMessage(DomainError, "From 'submitted' it can go to: approved, partially_approved"):
            requests.submit_request(self.staff, request)
