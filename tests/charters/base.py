"""The charters app's test case: the body of tests/base.py plus resources, datasets and helpers
that take a charter through its life the way people do, through the services.

Sam (staff, National Research Council) drafts; Helios Compute takes part; Ana (public co-chair,
Ministry, not a party) reviews; Grace (secretary) starts the review.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone

from charters.choices import REVIEW_CHECKLISTS, DataClassification, IPFramework, ReviewKind
from charters.models import Charter, DataUseAgreement
from charters.services import agreements, charters, lifecycle, reviews
from compute.models import Resource
from tests.base import PortalTestCase


def ballot_outcome(charter: Charter, outcome: str, pk: int = 1) -> SimpleNamespace:
    """What the ballot hooks read of a closed ballot on the charter."""
    return SimpleNamespace(pk=pk, subject_type="charter", subject_id=charter.pk, outcome=outcome, status="closed")


class FewRowsFirst:
    """The generic query-count check compares an empty list with a full one; an empty page
    skips its prefetches, so start from one row to compare a few rows with many."""

    def test_listing_costs_the_same_queries_for_few_and_many_rows(self):
        self.make_object(1)
        super().test_listing_costs_the_same_queries_for_few_and_many_rows()


class CharterTestCase(PortalTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.eu_cluster = Resource.objects.create(
            name="Sovereign GPU cluster", kind="gpu_cluster", capacity=64, jurisdiction="EU", tee_capable=True
        )
        cls.us_cluster = Resource.objects.create(
            name="Overseas GPU pool", kind="gpu_cluster", capacity=32, jurisdiction="US", tee_capable=False
        )
        cls.health_records = agreements.create_dataset(
            cls.admin,
            name="Hospital discharge records",
            steward=cls.orgs.council,
            jurisdiction="EU",
            classification=DataClassification.SENSITIVE,
        )
        cls.grid_telemetry = agreements.create_dataset(
            cls.admin,
            name="Grid telemetry",
            steward=cls.orgs.helios,
            jurisdiction="EU",
            classification=DataClassification.INTERNAL,
        )

    def draft(self, author=None, **fields) -> Charter:
        """A complete draft led by the author's organization (Sam's council by default)."""
        author = author or self.staff
        values = {
            "committee": self.committee,
            "title": "Federated triage model",
            "summary": "A triage model trained across hospitals without moving patient records.",
            "objectives": "Cut emergency waiting times by a fifth.",
            "national_impact": "Faster care in every region.",
            "ip_framework": IPFramework.JOINT_POOL,
            "data_classification": DataClassification.SENSITIVE,
            "allowed_jurisdictions": ["EU"],
            "requested_credits": Decimal("5000"),
            "participating_organizations": [self.orgs.helios],
            "resources": [self.eu_cluster],
        }
        values.update(fields)
        return charters.create_charter(author, **values)

    def agreement(self, parties=None, datasets=None, signed_by=(), **fields) -> DataUseAgreement:
        """A data use agreement between the council and Helios by default, signed by `signed_by`."""
        values = {
            "title": "Hospital records for triage research",
            "purpose": "Train and evaluate the triage model; nothing else.",
            "anonymization_standard": "k_anonymity",
            "anonymization_details": "k = 10 on quasi-identifiers, applied by the council.",
            "insights_owner": "joint",
            "audit_rights": "The council may audit Helios's use of the records twice a year.",
            "expires_on": timezone.localdate() + datetime.timedelta(days=365),
        }
        values.update(fields)
        agreement = agreements.create_agreement(
            self.admin,
            parties=parties or [self.orgs.council, self.orgs.helios],
            datasets=datasets or [self.health_records],
            **values,
        )
        for person in signed_by:
            agreements.sign_agreement(person, agreement)
        return agreement

    def under_review(self, charter: Charter) -> Charter:
        charter = lifecycle.submit(charter.created_by, charter)
        return lifecycle.start_review(self.secretary, charter)

    def pass_reviews(self, charter: Charter, reviewer=None) -> None:
        for kind in ReviewKind.values:
            reviews.record_review(
                reviewer or self.public_chair,
                charter,
                kind=kind,
                verdict="passed",
                notes="All in order.",
                checklist={key: True for key, _, automatic in REVIEW_CHECKLISTS[kind] if not automatic},
            )

    def ready_for_ballot(self, charter: Charter) -> Charter:
        charter = self.under_review(charter)
        self.pass_reviews(charter)
        return charter

    def approved(self, charter: Charter | None = None) -> Charter:
        charter = self.ready_for_ballot(charter or self.draft())
        return lifecycle.approve(self.public_chair, charter, ballot=ballot_outcome(charter, "passed"))

    def active(self, charter: Charter | None = None) -> Charter:
        return lifecycle.activate(self.staff, self.approved(charter))

    def refreshed(self, charter: Charter) -> Charter:
        return Charter.objects.get(pk=charter.pk)

    def by_both_chairs(self, step: str, charter: Charter, reason: str = "Agreed by both sectors.") -> Charter:
        """Suspend, resume or terminate: the public co-chair asks, the private one joins."""
        service = lifecycle.TRANSITION_SERVICES[step]
        service(self.public_chair, charter, reason=reason)
        return service(self.private_chair, self.refreshed(charter), reason=reason)
