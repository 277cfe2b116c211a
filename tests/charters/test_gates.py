"""Data contract first, and reviews before the ballot: what stands between a charter and a ballot."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from charters import ballots, selectors, tasks
from charters.choices import CharterStatus, DataClassification, ReviewKind
from charters.services import agreements, lifecycle, reviews
from governance.exceptions import DomainError
from tests.charters.base import CharterTestCase, ballot_outcome


class DataContractGateTests(CharterTestCase):
    def test_a_ballot_cannot_open_while_a_party_has_not_signed_and_the_refusal_names_it(self):
        agreement = self.agreement(signed_by=[self.staff])
        charter = self.ready_for_ballot(self.draft(data_use_agreements=[agreement]))
        with self.assertRaises(DomainError) as refusal:
            ballots.check_can_open(charter)
        self.assertIn(
            "The data use agreement 'Hospital records for triage research' is not signed by Helios Compute.",
            refusal.exception.message,
        )

    def test_every_party_that_has_not_signed_is_named(self):
        agreement = self.agreement()
        charter = self.ready_for_ballot(self.draft(data_use_agreements=[agreement]))
        with self.assertRaisesMessage(DomainError, "is not signed by Helios Compute and National Research Council."):
            ballots.check_can_open(charter)

    def test_once_every_party_has_signed_the_ballot_may_open(self):
        agreement = self.agreement(signed_by=[self.staff, self.private_staff])
        charter = self.ready_for_ballot(self.draft(data_use_agreements=[agreement]))
        ballots.check_can_open(charter)  # does not raise
        self.assertEqual(selectors.ballot_problems(charter), [])

    def test_a_passed_ballot_cannot_approve_while_an_agreement_is_unsigned(self):
        agreement = self.agreement(signed_by=[self.staff, self.private_staff])
        charter = self.ready_for_ballot(self.draft(data_use_agreements=[agreement]))
        # Renewed during the ballot: the parties must sign again before anything is approved.
        agreements.renew_agreement(self.staff, agreement, expires_on=agreement.expires_on + datetime.timedelta(days=30))
        with self.assertRaisesMessage(DomainError, "not signed by Helios Compute and National Research Council"):
            lifecycle.approve(self.public_chair, charter, ballot=ballot_outcome(charter, "passed"))
        self.assertEqual(self.refreshed(charter).status, CharterStatus.UNDER_REVIEW)

    def test_an_expired_agreement_blocks_the_ballot(self):
        agreement = self.agreement(signed_by=[self.staff, self.private_staff])
        charter = self.ready_for_ballot(self.draft(data_use_agreements=[agreement]))
        type(agreement).objects.filter(pk=agreement.pk).update(
            expires_on=timezone.localdate() - datetime.timedelta(days=1)
        )
        with self.assertRaisesMessage(DomainError, "expired on"):
            ballots.check_can_open(charter)

    def test_a_charter_cannot_name_an_agreement_that_does_not_bind_all_its_parties(self):
        agreement = self.agreement(parties=[self.orgs.council], datasets=[self.health_records])
        with self.assertRaises(ValidationError) as refusal:
            self.draft(data_use_agreements=[agreement])
        self.assertIn("does not bind Helios Compute", refusal.exception.message_dict["data_use_agreements"][0])

    def test_only_a_named_signatory_signs_for_an_organization(self):
        agreement = self.agreement()
        with self.assertRaisesMessage(PermissionDenied, "signatory"):
            agreements.sign_agreement(self.program_manager, agreement)  # Paula works for the council
        self.assertFalse(agreement.signatures.exists())
        response = self.api(self.program_manager).post(f"/api/data-use-agreements/{agreement.pk}/sign/")
        self.assertEqual(response.status_code, 403, response.content)
        self.assertFalse(agreement.signatures.exists())

    def test_only_a_person_of_a_party_signs_and_only_for_their_own_organization(self):
        agreement = self.agreement()
        with self.assertRaises(PermissionDenied):
            agreements.sign_agreement(self.public_chair, agreement)  # the Ministry is not a party
        agreements.sign_agreement(self.private_member, agreement)  # Erik signs for Helios
        with self.assertRaisesMessage(DomainError, "Helios Compute already signed"):
            agreements.sign_agreement(self.private_staff, agreement)

    def test_signed_terms_do_not_change(self):
        agreement = self.agreement(signed_by=[self.staff])
        with self.assertRaisesMessage(DomainError, "Signed agreements do not change"):
            agreements.update_agreement(self.staff, agreement, purpose="Anything at all.")

    def test_the_steward_of_shared_data_must_be_a_party(self):
        with self.assertRaises(ValidationError) as refusal:
            self.agreement(parties=[self.orgs.helios], datasets=[self.health_records])
        self.assertIn("Add National Research Council", refusal.exception.message_dict["parties"][0])


class ExpiryTests(CharterTestCase):
    def test_an_expired_agreement_is_flagged_once_and_suspends_the_charters_that_use_it(self):
        agreement = self.agreement(signed_by=[self.staff, self.private_staff])
        charter = self.active(self.draft(data_use_agreements=[agreement]))
        after_expiry = agreement.expires_on + datetime.timedelta(days=1)
        self.assertEqual(agreements.flag_expired_agreements(after_expiry), 1)
        self.assertEqual(agreements.flag_expired_agreements(after_expiry), 0)
        agreement.refresh_from_db()
        self.assertIsNotNone(agreement.expired_flagged_at)
        charter = self.refreshed(charter)
        self.assertEqual(charter.status, CharterStatus.SUSPENDED)
        self.assertIn("expired", charter.status_reason)

    def test_a_suspended_charter_resumes_only_once_the_renewed_agreement_is_signed_again(self):
        agreement = self.agreement(signed_by=[self.staff, self.private_staff])
        charter = self.active(self.draft(data_use_agreements=[agreement]))
        type(agreement).objects.filter(pk=agreement.pk).update(
            expires_on=timezone.localdate() - datetime.timedelta(days=1)
        )
        agreements.flag_expired_agreements()
        with self.assertRaisesMessage(DomainError, "expired on"):
            lifecycle.resume(self.public_chair, self.refreshed(charter))
        agreements.renew_agreement(self.staff, agreement, expires_on=timezone.localdate() + datetime.timedelta(days=90))
        with self.assertRaisesMessage(DomainError, "not signed by Helios Compute and National Research Council"):
            lifecycle.resume(self.public_chair, self.refreshed(charter))
        agreements.sign_agreement(self.staff, agreement)
        agreements.sign_agreement(self.private_staff, agreement)
        self.assertEqual(self.by_both_chairs("resume", self.refreshed(charter)).status, CharterStatus.ACTIVE)

    def test_the_hourly_task_does_the_flagging(self):
        agreement = self.agreement(signed_by=[self.staff, self.private_staff])
        charter = self.active(self.draft(data_use_agreements=[agreement]))
        type(agreement).objects.filter(pk=agreement.pk).update(
            expires_on=timezone.localdate() - datetime.timedelta(days=1)
        )
        self.assertEqual(
            settings.CELERY_BEAT_SCHEDULE["flag-expired-agreements"]["task"], tasks.flag_expired_agreements.name
        )
        self.assertEqual(tasks.flag_expired_agreements(), 1)
        self.assertEqual(tasks.flag_expired_agreements(), 0)
        self.assertEqual(self.refreshed(charter).status, CharterStatus.SUSPENDED)


class ReviewGateTests(CharterTestCase):
    def test_a_ballot_cannot_open_before_both_reviews_have_passed(self):
        charter = self.under_review(self.draft())
        with self.assertRaises(DomainError) as refusal:
            ballots.check_can_open(charter)
        self.assertIn("The data sovereignty review of version 1 has not been recorded.", refusal.exception.message)
        self.assertIn("The bias audit plan review of version 1 has not been recorded.", refusal.exception.message)

    def test_a_failed_review_keeps_the_ballot_closed(self):
        charter = self.under_review(self.draft())
        self.pass_reviews(charter)
        reviews.record_review(
            self.public_chair, charter, kind=ReviewKind.BIAS_AUDIT, verdict="failed", notes="No fairness metrics."
        )
        with self.assertRaisesMessage(DomainError, "The bias audit plan review of version 1 failed."):
            ballots.check_can_open(charter)

    def test_a_ballot_cannot_open_on_a_draft(self):
        with self.assertRaisesMessage(DomainError, "this charter is 'draft'"):
            ballots.check_can_open(self.draft())

    def test_the_sovereignty_review_cannot_pass_with_a_resource_outside_the_allowed_jurisdictions(self):
        charter = self.under_review(self.draft(resources=[self.eu_cluster, self.us_cluster]))
        with self.assertRaises(ValidationError) as refusal:
            reviews.record_review(
                self.public_chair,
                charter,
                kind="data_sovereignty",
                verdict="passed",
                checklist={"transfers_documented": True, "retention_defined": True},
            )
        message = refusal.exception.message_dict["verdict"][0]
        self.assertIn("The resource Overseas GPU pool is in US, outside the allowed jurisdictions (EU).", message)

    def test_restricted_data_needs_trusted_execution(self):
        charter = self.under_review(
            self.draft(
                data_classification=DataClassification.RESTRICTED,
                allowed_jurisdictions=["EU", "US"],
                resources=[self.us_cluster],
            )
        )
        findings = selectors.sovereignty_findings(selectors.pending_version(charter).content)
        self.assertEqual(findings["resources_in_jurisdiction"], [])
        self.assertEqual(
            findings["tee_for_restricted"],
            ["The resource Overseas GPU pool is not TEE-capable, and the charter's data is restricted."],
        )

    def test_datasets_must_reside_in_an_allowed_jurisdiction(self):
        self.grid_telemetry.jurisdiction = "UK"
        self.grid_telemetry.save()
        agreement = self.agreement(datasets=[self.health_records, self.grid_telemetry])
        charter = self.under_review(self.draft(data_use_agreements=[agreement]))
        findings = selectors.sovereignty_findings(selectors.pending_version(charter).content)
        self.assertEqual(
            findings["datasets_in_jurisdiction"],
            ["The dataset Grid telemetry resides in UK, outside the allowed jurisdictions (EU)."],
        )

    def test_a_reviewer_from_a_party_organization_is_refused(self):
        charter = self.under_review(self.draft())
        with self.assertRaises(PermissionDenied):
            reviews.record_review(self.private_member, charter, kind="bias_audit", verdict="failed", notes="x")

    def test_a_failed_review_must_say_why(self):
        charter = self.under_review(self.draft())
        with self.assertRaises(ValidationError) as refusal:
            reviews.record_review(self.public_chair, charter, kind="bias_audit", verdict="failed")
        self.assertIn("notes", refusal.exception.message_dict)
