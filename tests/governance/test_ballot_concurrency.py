"""Ballots under real concurrency: PostgreSQL, real threads, real row locks."""

from __future__ import annotations

import datetime

import pytest
from django.test import TransactionTestCase
from django.utils import timezone

from governance import services
from governance.choices import BallotStatus, SubjectType
from governance.exceptions import DomainError
from governance.models import AuditEvent, Ballot, Vote
from tests.base import make_body
from tests.governance.ballot_support import FAST_HASHING, BallotTestCase, use_stand_in_for_charters
from tests.support.ballots import close_by_both
from tests.support.races import together


@pytest.mark.postgres
@FAST_HASHING
class ConcurrentBallotTests(TransactionTestCase):
    def setUp(self):
        self.body = make_body()
        for name, value in vars(self.body).items():
            setattr(self, name, value)

    motion = BallotTestCase.motion
    charter = BallotTestCase.charter

    def test_two_concurrent_votes_of_one_member_leave_one_vote(self):
        for _ in range(5):
            ballot = self.motion()
            results = together(
                lambda b=ballot: services.cast_vote(self.public_member, b, "yes"),
                lambda b=ballot: services.cast_vote(self.public_member, b, "no"),
            )
            self.assertFalse([r for r in results if isinstance(r, Exception)], results)
            votes = list(Vote.objects.filter(ballot=ballot, voter=self.public_member))
            self.assertEqual(len(votes), 1)
            # Serialized by the lock: one cast, then one change to the other choice.
            self.assertEqual(votes[0].changes, 1)
            self.assertEqual(
                sorted(
                    AuditEvent.objects.filter(object_id=str(votes[0].pk), object_type="governance.vote").values_list(
                        "verb", flat=True
                    )
                ),
                ["vote.cast", "vote.changed"],
            )
            close_by_both(ballot, self.public_chair, self.private_chair)

    def test_every_member_voting_at_once_is_counted(self):
        ballot = self.motion()
        voters = [self.public_chair, self.public_member, self.private_chair, self.private_member]
        results = together(*[lambda v=v: services.cast_vote(v, ballot, "yes") for v in voters])
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        tally = Ballot.objects.get(pk=ballot.pk).tally
        self.assertEqual([tally["sectors"][s]["yes"] for s in ("public", "private")], [2, 2])

    def test_two_workers_closing_one_ballot_apply_the_outcome_once(self):
        with use_stand_in_for_charters():
            charter = self.charter(self.orgs.council)
            ballot = services.create_ballot(
                self.public_chair,
                committee=self.committee,
                title="Approve the charter",
                subject_type=SubjectType.CHARTER,
                subject_id=charter.pk,
                closes_at=timezone.now() + datetime.timedelta(hours=1),
            )
            services.open_ballot(self.public_chair, ballot)
            services.cast_vote(self.public_chair, ballot, "yes")
            services.cast_vote(self.private_chair, ballot, "yes")
            later = timezone.now() + datetime.timedelta(hours=2)
            results = together(
                lambda: services.close_due_ballots(later),
                lambda: services.close_due_ballots(later),
                lambda: services.close_ballot(None, ballot, now=later),
            )
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        self.assertEqual(AuditEvent.objects.filter(verb="ballot.closed").count(), 1)
        self.assertEqual(AuditEvent.objects.filter(verb="charter.outcome_applied").count(), 1)
        ballot.refresh_from_db()
        self.assertEqual((ballot.status, ballot.outcome), (BallotStatus.CLOSED, "passed"))

    def test_a_vote_racing_the_close_is_either_in_the_frozen_tally_or_refused(self):
        for _ in range(5):
            ballot = self.motion()
            services.cast_vote(self.public_chair, ballot, "yes")
            services.close_ballot(self.public_chair, ballot)  # the public sector asks first
            vote, closed = together(
                lambda b=ballot: services.cast_vote(self.private_member, b, "yes"),
                lambda b=ballot: services.close_ballot(self.private_chair, b),
            )
            self.assertNotIsInstance(closed, Exception)
            ballot.refresh_from_db()
            counted = ballot.result["sectors"]["private"]["yes"]
            stored = Vote.objects.filter(ballot=ballot, voter=self.private_member).count()
            self.assertEqual(counted, stored)
            if isinstance(vote, Exception):
                self.assertIsInstance(vote, DomainError)
                self.assertEqual(stored, 0)

    def test_two_workers_closing_an_sop_ballot_adopt_the_version_once(self):
        sop = services.create_sop(self.secretary, committee=self.committee, title="Decision-making", body="Text.")
        version = sop.versions.get()
        ballot = services.put_sop_version_to_ballot(
            self.secretary, version, closes_at=timezone.now() + datetime.timedelta(hours=1)
        )
        services.open_ballot(self.public_chair, ballot)
        for voter in (self.public_chair, self.public_member, self.private_chair, self.private_member):
            services.cast_vote(voter, ballot, "yes")
        later = timezone.now() + datetime.timedelta(hours=2)
        results = together(lambda: services.close_due_ballots(later), lambda: services.close_due_ballots(later))
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        self.assertEqual(sorted(len(r) for r in results), [0, 1])
        self.assertEqual(AuditEvent.objects.filter(verb="sop.version_adopted").count(), 1)
        version.refresh_from_db()
        self.assertEqual(version.status, "adopted")
