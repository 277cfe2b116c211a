"""Races on PostgreSQL: the row locks of the services, not luck, keep one signature per party and
one version before the committee."""

from __future__ import annotations

import datetime

import pytest
from django.test import TransactionTestCase
from django.utils import timezone

from charters.models import CharterVersion, Signature
from charters.services import agreements, amendments, charters
from tests.base import make_body
from tests.support.races import together


@pytest.mark.postgres
class ConcurrentCharterTests(TransactionTestCase):
    def setUp(self):
        self.body = make_body()
        self.dataset = agreements.create_dataset(
            self.body.admin, name="Records", steward=self.body.orgs.council, jurisdiction="EU"
        )

    def test_two_colleagues_signing_at_once_give_one_signature(self):
        body = self.body
        agreement = agreements.create_agreement(
            body.admin,
            title="Records",
            purpose="Research.",
            parties=[body.orgs.council, body.orgs.helios],
            datasets=[self.dataset],
            anonymization_standard="k_anonymity",
            audit_rights="Yearly.",
            expires_on=timezone.localdate() + datetime.timedelta(days=30),
        )
        results = together(
            lambda: agreements.sign_agreement(body.staff, agreement),
            lambda: agreements.sign_agreement(body.public_member, agreement),
        )
        self.assertEqual(Signature.objects.filter(agreement=agreement).count(), 1)
        self.assertEqual(sorted(type(r).__name__ for r in results), ["DomainError", "Signature"])

    def test_two_amendments_proposed_at_once_leave_one_before_the_committee(self):
        body = self.body
        charter = charters.create_charter(
            body.staff,
            committee=body.committee,
            title="Triage",
            summary="S",
            objectives="O",
            national_impact="N",
            ip_framework="joint_pool",
        )
        type(charter).objects.filter(pk=charter.pk).update(status="active", version=1)
        results = together(
            lambda: amendments.propose_amendment(body.staff, charter, change_note="A", title="Triage A"),
            lambda: amendments.propose_amendment(body.program_manager, charter, change_note="B", title="Triage B"),
        )
        self.assertEqual(CharterVersion.objects.filter(charter=charter, status="proposed").count(), 1)
        self.assertEqual(sorted(type(r).__name__ for r in results), ["CharterVersion", "DomainError"])
