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

    def test_votes_of_different_members_do_not_wait_for_each_other_but_closing_waits_for_them(self):
        import threading

        from django.db import connection, transaction

        ballot = self.motion()
        carla_voted, others_done = threading.Event(), threading.Event()

        def carla_votes_and_holds_her_transaction_open():
            try:
                with transaction.atomic():
                    services.cast_vote(self.public_member, ballot, "yes")
                    carla_voted.set()
                    # Erik votes while Carla's transaction is still open: he must not queue behind it.
                    return others_done.wait(timeout=20)
            finally:
                connection.close()

        def erik_votes_then_ana_asks_to_close():
            try:
                carla_voted.wait(timeout=20)
                services.cast_vote(self.private_member, ballot, "no")
                others_done.set()
                return "erik voted while carla's vote was in flight"
            finally:
                connection.close()

        results = together(carla_votes_and_holds_her_transaction_open, erik_votes_then_ana_asks_to_close)
        self.assertEqual(results, [True, "erik voted while carla's vote was in flight"])

        # Closing takes the ballot exclusively: it waits for a vote in flight, which is then counted.
        ana_voting, ben_waits = threading.Event(), threading.Event()

        def ana_votes_and_holds_until_the_close_waits_on_her():
            try:
                with transaction.atomic():
                    services.cast_vote(self.public_chair, ballot, "yes")
                    ana_voting.set()
                    return ben_waits.wait(timeout=20)
            finally:
                connection.close()

        def ben_closes():
            try:
                ana_voting.wait(timeout=20)
                services.close_ballot(self.public_chair, ballot)
                return services.close_ballot(self.private_chair, ballot).status
            finally:
                connection.close()

        def watch_for_a_backend_waiting_on_a_lock():
            try:
                ana_voting.wait(timeout=20)
                with connection.cursor() as cursor:
                    for _ in range(400):
                        cursor.execute(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock'"
                        )
                        if cursor.fetchone()[0]:
                            ben_waits.set()
                            return True
                        threading.Event().wait(0.05)
                return False
            finally:
                connection.close()

        results = together(
            ana_votes_and_holds_until_the_close_waits_on_her, ben_closes, watch_for_a_backend_waiting_on_a_lock
        )
        self.assertEqual(results, [True, BallotStatus.CLOSED, True])
        ballot.refresh_from_db()
        self.assertEqual(ballot.result["sectors"]["public"]["yes"], 2)

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
