"""The demo body's charters: every lifecycle state, reached through the services and real ballots."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import TestCase

from charters.choices import CharterStatus
from charters.models import Charter, DataUseAgreement, RegisteredModel
from governance.models import Ballot


class DemoTests(TestCase):
    def test_the_demo_has_a_charter_in_every_state_agreements_signed_and_not_and_models(self):
        call_command("seed_demo", stdout=StringIO())
        self.assertEqual(set(Charter.objects.values_list("status", flat=True)), set(CharterStatus.values))
        decided = Ballot.objects.filter(subject_type="charter", status="closed")
        self.assertEqual(set(decided.values_list("outcome", flat=True)), {"passed", "rejected"})
        self.assertTrue(Ballot.objects.filter(subject_type="charter", status="open").exists())
        states = {a.state_label() for a in DataUseAgreement.objects.with_signatures()}
        self.assertEqual(states, {"In force", "Partly signed", "Unsigned", "Expired"})
        suspended = Charter.objects.get(status=CharterStatus.SUSPENDED)
        self.assertIn("expired", suspended.status_reason)
        distilled = RegisteredModel.objects.get(name="triage-net-small")
        self.assertEqual([str(m) for m in distilled.lineage()], ["triage-net 1.1", "triage-net 1.0"])
