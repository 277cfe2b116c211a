"""The tables answer to the log: a vote, a tally or a ledger entry changed without the log is
reported by verify_audit_log as plainly as a changed event."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import connection

from compute.models import LedgerEntry
from compute.services.credits import pools
from governance.models import Ballot, Vote
from governance.transparency.verify import verify_log
from tests.governance.ballot_support import BallotTestCase


def raw_update(table: str, assignments: str, params: list) -> None:
    """What a database administrator does: triggers off, then the update."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
            for (name,) in cursor.fetchall():
                cursor.execute(f"DROP TRIGGER {name}")
        cursor.execute(f"UPDATE {table} SET {assignments}", params)  # noqa: S608
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


class ReplayTests(BallotTestCase):
    def test_an_honest_body_replays_without_a_problem(self):
        ballot = self.motion()
        self.votes(ballot, public_chair="yes", private_chair="no", public_member="yes")
        services_vote = Vote.objects.get(ballot=ballot, voter=self.private_chair)
        self.assertEqual(services_vote.choice, "no")
        report = verify_log(check_witnesses=False)
        self.assertTrue(report.ok, report.problems)

    def test_a_vote_changed_in_the_table_alone_is_reported(self):
        ballot = self.motion()
        self.votes(ballot, public_chair="yes", private_chair="no")
        vote = Vote.objects.get(ballot=ballot, voter=self.private_chair)
        raw_update(Vote._meta.db_table, "choice = %s WHERE id = %s", ["yes", vote.pk])
        report = verify_log(check_witnesses=False)
        self.assertFalse(report.ok)
        self.assertIn(f"vote {vote.pk} says 'yes', its events say 'no'", report.problems)

    def test_a_closed_ballots_outcome_changed_in_the_table_is_reported(self):
        ballot = self.motion()
        self.votes(ballot, public_chair="yes", private_chair="yes", public_member="yes", private_member="yes")
        from governance import services

        services.close_ballot(self.public_chair, ballot)
        ballot.refresh_from_db()
        self.assertEqual(ballot.status, "closed")
        forged = "rejected" if ballot.outcome != "rejected" else "adopted"
        raw_update(Ballot._meta.db_table, "outcome = %s WHERE id = %s", [forged, ballot.pk])
        problems = verify_log(check_witnesses=False).problems
        self.assertTrue(any(f"ballot {ballot.pk}'s outcome" in p for p in problems), problems)

    def test_a_ledger_entry_changed_without_the_log_is_reported(self):
        start = datetime.date(2027, 1, 1)
        pools.create_pool(
            self.admin,
            committee=self.committee,
            name="Replay pool",
            period_start=start,
            period_end=start + datetime.timedelta(days=90),
            total=Decimal(1000),
        )
        entry = LedgerEntry.objects.order_by("-id").first()
        self.assertTrue(verify_log(check_witnesses=False).ok)
        raw_update(LedgerEntry._meta.db_table, "amount = amount * 2 WHERE id = %s", [entry.pk])
        problems = verify_log(check_witnesses=False).problems
        expected = f"ledger transaction {entry.transaction_id}'s entries differ from those its event recorded"
        self.assertIn(expected, problems)


class SeatReplayTests(BallotTestCase):
    """Seats and sectors decide every tally's weights, so they answer to the log too."""

    def test_an_honest_body_has_every_seat_and_sector_in_the_log(self):
        from governance.transparency.replay import replay_seats

        self.assertEqual(replay_seats(), [])

    def test_a_seat_moved_to_another_organization_in_the_table_alone_is_reported(self):
        from governance.models import Membership

        seat = Membership.objects.get(user=self.public_member, committee=self.committee)
        raw_update(Membership._meta.db_table, "organization_id = %s WHERE id = %s", [self.orgs.helios.pk, seat.pk])
        problems = verify_log(check_witnesses=False).problems
        self.assertIn(f"seat {seat.pk}'s organization differs from what its events recorded", problems)

    def test_an_observer_made_a_voting_co_chair_in_the_table_alone_is_reported(self):
        from governance.models import Membership

        seat = Membership.objects.get(user=self.secretary, committee=self.committee)
        raw_update(Membership._meta.db_table, "role = %s, voting = %s WHERE id = %s", ["chair", True, seat.pk])
        problems = verify_log(check_witnesses=False).problems
        self.assertIn(f"seat {seat.pk}'s role and voting differ from what its events recorded", problems)

    def test_an_organization_moved_to_the_other_sector_in_the_table_alone_is_reported(self):
        from governance.models import Organization

        raw_update(Organization._meta.db_table, "sector = %s WHERE id = %s", ["private", self.orgs.council.pk])
        problems = verify_log(check_witnesses=False).problems
        self.assertIn(f"organization {self.orgs.council.pk} is in the private sector, its events say public", problems)
