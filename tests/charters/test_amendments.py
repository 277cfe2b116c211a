"""An approved charter changes only by amendment: a new version, its own reviews and ballot, and
every earlier version still readable with a diff between any two."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError

from charters import ballots
from charters.choices import CharterStatus, VersionStatus
from charters.services import amendments
from charters.versions import diff
from governance.exceptions import DomainError
from tests.charters.base import CharterTestCase, ballot_outcome


class AmendmentTests(CharterTestCase):
    def amend(self, charter, **changes):
        return amendments.propose_amendment(self.staff, charter, change_note="Add the grid pilot.", **changes)

    def test_an_amendment_is_a_new_proposed_version_and_the_approved_text_stays_in_force(self):
        charter = self.active()
        version = self.amend(charter, requested_credits=Decimal("8000"), participating_organizations=[])
        self.assertEqual((version.number, version.status, version.is_amendment), (2, VersionStatus.PROPOSED, True))
        charter = self.refreshed(charter)
        self.assertEqual((charter.status, charter.version, charter.requested_credits), ("active", 1, Decimal("5000")))
        self.assertEqual(version.content["requested_credits"], "8000.00")

    def test_an_amendment_needs_its_own_reviews_before_its_ballot(self):
        charter = self.active()
        self.amend(charter, title="Federated triage and grid pilot")
        with self.assertRaisesMessage(DomainError, "The data sovereignty review of version 2 has not been recorded."):
            ballots.check_can_open(charter)
        self.pass_reviews(charter)
        ballots.check_can_open(charter)

    def test_a_passed_ballot_brings_the_amendment_into_force(self):
        charter = self.active()
        self.amend(
            charter,
            title="Federated triage and grid pilot",
            resources=[self.eu_cluster, self.us_cluster],
            allowed_jurisdictions=["EU", "US"],
        )
        self.pass_reviews(charter)
        ballots.apply_outcome(charter, ballot_outcome(charter, "passed"), self.public_chair)
        charter = self.refreshed(charter)
        self.assertEqual(
            (charter.status, charter.version, charter.title), ("active", 2, "Federated triage and grid pilot")
        )
        self.assertEqual(set(charter.resources.all()), {self.eu_cluster, self.us_cluster})
        self.assertEqual(list(charter.versions.values_list("number", "status")), [(1, "approved"), (2, "approved")])

    def test_a_rejected_amendment_leaves_the_version_in_force(self):
        charter = self.active()
        self.amend(charter, title="Something else entirely")
        self.pass_reviews(charter)
        ballots.apply_outcome(charter, ballot_outcome(charter, "rejected"), self.public_chair)
        charter = self.refreshed(charter)
        self.assertEqual((charter.status, charter.version, charter.title), ("active", 1, "Federated triage model"))
        self.assertEqual(charter.versions.get(number=2).status, VersionStatus.REJECTED)

    def test_the_diff_between_versions_names_each_changed_field(self):
        charter = self.active()
        self.amend(
            charter,
            summary="A triage model trained across hospitals and clinics without moving patient records.",
            participating_organizations=[self.orgs.helios, self.orgs.northwind],
            requested_credits=Decimal("8000"),
        )
        first, second = charter.versions.order_by("number")
        changes = {change.name: change for change in diff(first.content, second.content)}
        self.assertEqual(set(changes), {"summary", "participating_organizations", "requested_credits"})
        self.assertIn(("added", "and clinics "), changes["summary"].pieces)
        self.assertEqual(changes["participating_organizations"].added, ["Northwind AI"])
        self.assertEqual(
            (changes["requested_credits"].before, changes["requested_credits"].after), ("5000.00", "8000.00")
        )

    def test_the_diff_is_served_by_the_api_and_the_versions_stay_readable(self):
        charter = self.active()
        self.amend(charter, title="Federated triage and grid pilot")
        response = self.api(self.private_member).get(f"/api/charters/{charter.pk}/diff/?from=1&to=2")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()[0]["before"], "Federated triage model")
        versions = self.api(self.private_member).get(f"/api/charters/{charter.pk}/versions/").json()
        self.assertEqual(
            [v["content"]["title"] for v in versions], ["Federated triage model", "Federated triage and grid pilot"]
        )
        self.assertEqual(
            self.api(self.private_member).get(f"/api/charters/{charter.pk}/diff/?from=1&to=9").status_code, 400
        )

    def test_a_second_amendment_waits_for_the_first(self):
        charter = self.active()
        self.amend(charter, title="One")
        with self.assertRaisesMessage(DomainError, "Version 2 is already before the committee"):
            self.amend(charter, title="Two")
        amendments.withdraw_amendment(self.staff, charter)
        self.assertEqual(self.amend(charter, title="Two").number, 3)

    def test_an_amendment_must_change_something_and_say_why(self):
        charter = self.active()
        with self.assertRaises(ValidationError):
            self.amend(charter)
        with self.assertRaises(ValidationError):
            amendments.propose_amendment(self.staff, charter, change_note="", title="New")

    def test_drafts_are_edited_not_amended(self):
        with self.assertRaisesMessage(DomainError, "Edit the draft instead"):
            self.amend(self.draft(), title="New")

    def test_terminating_withdraws_a_pending_amendment(self):
        charter = self.active()
        self.amend(charter, title="New")
        self.by_both_chairs("terminate", charter, reason="Funding ended.")
        self.assertEqual(charter.versions.get(number=2).status, VersionStatus.WITHDRAWN)

    def test_the_api_proposes_an_amendment(self):
        charter = self.active()
        response = self.api(self.staff).post(
            f"/api/charters/{charter.pk}/amend/", {"change_note": "More credits.", "requested_credits": "9000.00"}
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["number"], 2)
        self.assertEqual(self.refreshed(charter).status, CharterStatus.ACTIVE)

    def test_the_amendment_page_proposes_a_new_version_from_the_form(self):
        charter = self.active()
        self.client.force_login(self.staff)
        page = self.client.get(f"/charters/{charter.pk}/amend/")
        self.assertContains(page, "What the amendment changes, and why")
        form = page.context["form"]
        self.assertNotIn("lead_organization", form.fields)  # fixed once the charter is drafted
        data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
        data.update(change_note="More credits for the grid pilot.", requested_credits="8000.00")
        response = self.client.post(f"/charters/{charter.pk}/amend/", data)
        self.assertRedirects(response, f"/charters/{charter.pk}/")
        version = charter.versions.get(number=2)
        self.assertEqual((version.status, version.content["requested_credits"]), (VersionStatus.PROPOSED, "8000.00"))
