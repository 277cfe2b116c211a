"""A charter moves only along its lifecycle: every legal step works, every other step is refused
with 409 naming the legal ones."""

from __future__ import annotations

from django.core import mail
from django.core.exceptions import PermissionDenied

from charters.choices import CHARTER_TRANSITIONS, CharterStatus, VersionStatus, legal_targets
from charters.models import Charter
from charters.services import charters, lifecycle
from governance.exceptions import DomainError, IllegalTransition
from governance.models import AuditEvent
from tests.charters.base import CharterTestCase, ballot_outcome


class LegalTransitionTests(CharterTestCase):
    def test_staff_submit_their_draft_and_it_becomes_version_one(self):
        charter = lifecycle.submit(self.staff, self.draft())
        self.assertEqual(charter.status, CharterStatus.SUBMITTED)
        version = charter.versions.get()
        self.assertEqual((version.number, version.status), (1, VersionStatus.PROPOSED))
        self.assertEqual(version.content["title"], "Federated triage model")

    def test_the_secretary_takes_a_submitted_charter_into_review(self):
        charter = lifecycle.submit(self.staff, self.draft())
        charter = lifecycle.start_review(self.secretary, charter)
        self.assertEqual(charter.status, CharterStatus.UNDER_REVIEW)

    def test_a_passed_ballot_approves_and_brings_the_version_into_force(self):
        charter = self.ready_for_ballot(self.draft())
        charter = lifecycle.approve(self.public_chair, charter, ballot=ballot_outcome(charter, "passed"))
        self.assertEqual((charter.status, charter.version), (CharterStatus.APPROVED, 1))
        self.assertEqual(charter.versions.get().status, VersionStatus.APPROVED)

    def test_a_rejected_ballot_rejects(self):
        charter = self.ready_for_ballot(self.draft())
        charter = lifecycle.reject(self.public_chair, charter, ballot=ballot_outcome(charter, "rejected"))
        self.assertEqual(charter.status, CharterStatus.REJECTED)
        self.assertEqual(charter.versions.get().status, VersionStatus.REJECTED)

    def test_a_co_chair_requests_a_revision_and_the_authors_resubmit_a_second_version(self):
        charter = self.under_review(self.draft())
        charter = lifecycle.request_revision(self.private_chair, charter, reason="Name the evaluation hospitals.")
        self.assertEqual(charter.status, CharterStatus.REVISION_REQUESTED)
        self.assertEqual(charter.status_reason, "Name the evaluation hospitals.")
        charter = charters.update_charter(self.staff, charter, objectives="Cut waiting times in six hospitals.")
        charter = lifecycle.submit(self.staff, charter)
        self.assertEqual(charter.status, CharterStatus.SUBMITTED)
        self.assertEqual(
            list(charter.versions.values_list("number", "status")),
            [(1, VersionStatus.REVISION_REQUESTED), (2, VersionStatus.PROPOSED)],
        )

    def test_the_lead_organization_activates_an_approved_charter(self):
        charter = lifecycle.activate(self.staff, self.approved())
        self.assertEqual(charter.status, CharterStatus.ACTIVE)

    def test_the_co_chairs_of_both_sectors_suspend_and_resume_an_active_charter(self):
        charter = self.active()
        asked = lifecycle.suspend(self.public_chair, charter, reason="Security incident under review.")
        self.assertEqual(asked.status, CharterStatus.ACTIVE)  # one sector's request waits
        self.assertEqual(self.refreshed(charter).pending_steps(), {"suspend": ["public"]})
        with self.assertRaisesMessage(DomainError, "already asked"):
            lifecycle.suspend(self.public_chair, self.refreshed(charter), reason="Again.")
        charter = lifecycle.suspend(self.private_chair, self.refreshed(charter), reason="Agreed.")
        self.assertEqual(charter.status, CharterStatus.SUSPENDED)
        self.assertEqual(charter.status_reason, "Public: Security incident under review. / Private: Agreed.")
        self.assertEqual(self.refreshed(charter).pending_steps(), {})
        charter = self.by_both_chairs("resume", charter)
        self.assertEqual(charter.status, CharterStatus.ACTIVE)
        # A consent given before a change of status is not reused afterwards.
        lifecycle.suspend(self.private_chair, self.refreshed(charter), reason="Second incident.")
        self.assertEqual(self.refreshed(charter).status, CharterStatus.ACTIVE)

    def test_a_co_chair_withdraws_their_request(self):
        charter = self.active()
        lifecycle.terminate(self.public_chair, charter, reason="Funding ended.")
        with self.assertRaisesMessage(DomainError, "no open request"):
            lifecycle.withdraw_step_consent(self.private_chair, charter, "terminate")
        lifecycle.withdraw_step_consent(self.public_chair, charter, "terminate")
        lifecycle.terminate(self.private_chair, self.refreshed(charter), reason="Funding ended.")
        self.assertEqual(self.refreshed(charter).status, CharterStatus.ACTIVE)
        self.assertEqual(self.refreshed(charter).pending_steps(), {"terminate": ["private"]})

    def test_an_administrator_no_longer_suspends_or_terminates(self):
        charter = self.active()
        for step in ("suspend", "terminate"):
            with self.subTest(step=step), self.assertRaises(PermissionDenied):
                lifecycle.TRANSITION_SERVICES[step](self.admin, charter, reason="Alone.")

    def test_the_lead_organization_completes_an_active_charter(self):
        charter = lifecycle.complete(self.staff, self.active())
        self.assertEqual(charter.status, CharterStatus.COMPLETED)

    def test_both_co_chairs_terminate_an_approved_active_or_suspended_charter(self):
        approved = self.approved()
        active = self.active(self.draft(title="Second"))
        suspended = self.by_both_chairs("suspend", self.active(self.draft(title="Third")), reason="Paused.")
        for charter in (approved, active, suspended):
            with self.subTest(status=charter.status):
                charter = self.by_both_chairs("terminate", charter, reason="Funding withdrawn.")
                self.assertEqual(charter.status, CharterStatus.TERMINATED)

    def test_every_step_is_in_the_audit_log(self):
        charter = self.active()
        verbs = list(
            AuditEvent.objects.filter(object_type="charters.charter", object_id=str(charter.pk)).values_list(
                "verb", flat=True
            )
        )
        self.assertEqual(
            [v for v in verbs if v != "charter.reviewed"],
            ["charter.created", "charter.submit", "charter.start_review", "charter.approve", "charter.activate"],
        )


class IllegalTransitionTests(CharterTestCase):
    """Every step from every status its row of CHARTER_TRANSITIONS does not list is refused."""

    def take(self, name: str, charter: Charter):
        if name in ("approve", "reject"):
            outcome = "passed" if name == "approve" else "rejected"
            return lifecycle.TRANSITION_SERVICES[name](
                self.public_chair, charter, ballot=ballot_outcome(charter, outcome)
            )
        actors = {"submit": self.staff, "start_review": self.secretary, "activate": self.staff, "complete": self.staff}
        if name in actors:
            return lifecycle.TRANSITION_SERVICES[name](actors[name], charter)
        return lifecycle.TRANSITION_SERVICES[name](self.public_chair, charter, reason="Because.")

    def test_every_step_from_a_status_it_does_not_start_from_is_refused_naming_the_legal_ones(self):
        charter = self.draft()
        refused = 0
        for name, transition in CHARTER_TRANSITIONS.items():
            for status in CharterStatus.values:
                if status in transition.sources:
                    continue
                Charter.objects.filter(pk=charter.pk).update(status=status)
                with self.subTest(step=name, status=status), self.assertRaises(IllegalTransition) as refusal:
                    self.take(name, self.refreshed(charter))
                self.assertEqual(refusal.exception.extra["legal"], legal_targets(status))
                self.assertEqual(self.refreshed(charter).status, status)
                refused += 1
        self.assertEqual(refused, sum(len(CharterStatus.values) - len(t.sources) for t in CHARTER_TRANSITIONS.values()))

    def test_the_api_answers_409_with_the_legal_steps(self):
        charter = self.approved()
        response = self.api(self.staff).post(f"/api/charters/{charter.pk}/submit/")
        self.assertEqual(response.status_code, 409, response.content)
        self.assertEqual(
            response.json()["detail"],
            "A charter cannot go from 'approved' to 'submitted'. From 'approved' it can go to: active, terminated.",
        )
        self.assertEqual(response.json()["legal"], ["active", "terminated"])

    def test_terminated_completed_and_rejected_charters_go_nowhere(self):
        for status in (CharterStatus.TERMINATED, CharterStatus.COMPLETED, CharterStatus.REJECTED):
            self.assertEqual(legal_targets(status), [])

    def test_each_step_has_an_api_action(self):
        charter = self.draft()
        for name in CHARTER_TRANSITIONS:
            with self.subTest(step=name):
                response = self.api(self.outsider).post(f"/api/charters/{charter.pk}/{name}/")
                # Olga cannot even see the draft: the action exists and answers 404, not 405.
                self.assertEqual(response.status_code, 404)


class NotificationTests(CharterTestCase):
    def test_the_secretary_hears_of_a_submission_and_the_author_of_each_step(self):
        charter = self.draft()
        with self.captureOnCommitCallbacks(execute=True):
            lifecycle.submit(self.staff, charter)
        self.assertEqual(sorted(message.to[0] for message in mail.outbox), ["grace@example.org", "sam@example.org"])
        self.assertEqual(mail.outbox[0].subject, "Charter “Federated triage model” is now submitted")
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            lifecycle.start_review(self.secretary, charter)
        self.assertEqual([message.to for message in mail.outbox], [["sam@example.org"]])
