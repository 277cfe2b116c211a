"""The portal's one form style, tried on the ballot form: a picker for the subject instead of
a raw id, the quorum in percent, no empty choice where there is one committee, dates in a sane
range, every mistake shown at once with the typed values kept."""

from __future__ import annotations

from decimal import Decimal

from governance.choices import SubjectType
from governance.models import Ballot
from tests.compute.credits import D, make_world
from tests.governance.ballot_support import BallotTestCase


class BallotFormTests(BallotTestCase):
    def test_the_subject_is_picked_by_name_not_typed_as_an_id(self):
        from compute.services.credits import requests

        world = make_world(self.body)
        big = requests.create_request(
            self.staff,
            charter=world["charter"],
            resource=world["gpu"],
            pool=world["pool"],
            amount=D("20000"),
            justification="Large training run.",
            submit=True,
        )
        self.client.force_login(self.secretary)
        page = self.client.get("/ballots/new/")
        self.assertNotContains(page, "Subject id")
        self.assertContains(page, f'value="credit_request:{big.pk}"')
        self.assertContains(page, "20,000 credits on Aurora GPU cluster")
        response = self.client.post(
            "/ballots/new/",
            {
                "committee": self.committee.pk,
                "title": "Fund the large run",
                "subject": f"credit_request:{big.pk}",
                "quorum": "60",
            },
        )
        ballot = Ballot.objects.get(title="Fund the large run")
        self.assertRedirects(response, f"/ballots/{ballot.pk}/", fetch_redirect_response=False)
        self.assertEqual((ballot.subject_type, ballot.subject_id), (SubjectType.CREDIT_REQUEST, big.pk))
        self.assertEqual(ballot.quorum, Decimal("0.6"))

    def test_one_committee_is_chosen_without_an_empty_line(self):
        self.client.force_login(self.secretary)
        page = self.client.get("/ballots/new/")
        self.assertNotContains(page, "---------")
        self.assertContains(page, "Quorum (%)")

    def test_every_mistake_is_shown_at_once_and_the_typed_values_stay(self):
        self.client.force_login(self.secretary)
        response = self.client.post(
            "/ballots/new/",
            {
                "committee": self.committee.pk,
                "title": "",
                "quorum": "150",
                "closes_at": "9999-01-01T10:00",
                "description": "Kept text",
            },
        )
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn("3 things to correct", html)
        self.assertIn('id="id_title_error"', html)
        self.assertIn('id="id_quorum_error"', html)
        self.assertIn("Enter a date between 2000 and 2100; 9999 is outside that range.", html)
        self.assertIn("Kept text", html)
        self.assertIn('value="150"', html)
        self.assertFalse(Ballot.objects.exists())
