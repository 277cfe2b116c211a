"""Ballots: opening on a constituted committee, the roll, recusal, votes, closing, deadlock."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance import services
from governance.choices import BallotStatus, Outcome, Role, Sector, SubjectType, VotingMethod
from governance.exceptions import DomainError
from governance.models import AuditEvent, Ballot, Eligibility, Vote
from tests.api_checks import APIResourceChecks
from tests.governance.ballot_support import BallotTestCase, use_stand_in_for_charters


def verbs(obj) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).values_list(
            "verb", flat=True
        )
    )


class OpeningTests(BallotTestCase):
    def test_a_co_chair_opens_a_draft_and_the_roll_of_voting_members_is_frozen(self):
        ballot = self.motion(opened=False)
        self.assertEqual(ballot.status, BallotStatus.DRAFT)
        services.open_ballot(self.public_chair, ballot)
        ballot.refresh_from_db()
        self.assertEqual(ballot.status, BallotStatus.OPEN)
        roll = set(Eligibility.objects.filter(ballot=ballot).values_list("user__username", flat=True))
        # The secretary holds no voting seat and is not on the roll.
        self.assertEqual(roll, {"ana", "ben", "carla", "erik"})
        self.assertIn("ballot.opened", verbs(ballot))

    def test_a_member_who_joins_after_the_opening_is_not_on_the_roll(self):
        ballot = self.motion()
        newcomer = self.seat("nora", self.orgs.council)
        with self.assertRaisesMessage(PermissionDenied, "not on this ballot's roll"):
            services.cast_vote(newcomer, ballot, "yes")

    def test_method_and_quorum_default_from_the_committee(self):
        services.update_committee(self.admin, self.committee, quorum=Decimal("0.75"))
        self.committee.refresh_from_db()
        ballot = self.motion(opened=False)
        self.assertEqual(ballot.method, VotingMethod.PARITY_MAJORITY)
        self.assertEqual(ballot.quorum, Decimal("0.75"))
        with use_stand_in_for_charters():
            charter = self.charter(self.orgs.council)
            on_charter = services.create_ballot(
                self.secretary,
                committee=self.committee,
                title="Approve the speech corpus charter",
                subject_type=SubjectType.CHARTER,
                subject_id=charter.pk,
            )
        self.assertEqual(on_charter.method, VotingMethod.DOUBLE_MAJORITY)
        self.assertEqual(on_charter.subject_title, "Charter: Shared speech corpus")

    def test_a_ballot_may_override_the_committee_defaults(self):
        ballot = self.motion(opened=False, method=VotingMethod.DOUBLE_SUPERMAJORITY, quorum=Decimal("1"))
        self.assertEqual((ballot.method, ballot.quorum), (VotingMethod.DOUBLE_SUPERMAJORITY, Decimal("1")))

    def test_an_unconstituted_committee_cannot_open_a_ballot_and_the_error_names_the_short_sector(self):
        ballot = self.motion(opened=False)
        self.seat("pat", self.orgs.council)
        response = self.api(self.public_chair).post(f"/api/ballots/{ballot.pk}/open/")
        self.assertEqual(response.status_code, 409, response.content)
        self.assertIn("The private sector is short of 1 voting seat", response.json()["detail"])
        ballot.refresh_from_db()
        self.assertEqual(ballot.status, BallotStatus.DRAFT)
        self.assertFalse(Eligibility.objects.filter(ballot=ballot).exists())

    def test_members_of_a_party_organization_are_recused_when_the_ballot_opens(self):
        with use_stand_in_for_charters():
            charter = self.charter(self.orgs.council, self.orgs.helios)
            ballot = services.create_ballot(
                self.public_chair,
                committee=self.committee,
                title="Approve the speech corpus charter",
                subject_type=SubjectType.CHARTER,
                subject_id=charter.pk,
            )
            services.open_ballot(self.private_chair, ballot)
        recusals = {r.user.username: r for r in ballot.recusals.select_related("user")}
        self.assertEqual(set(recusals), {"carla", "erik"})
        self.assertTrue(recusals["erik"].automatic)
        self.assertEqual(recusals["erik"].reason, "Helios Compute is a party to this project charter.")
        tally = Ballot.objects.get(pk=ballot.pk).tally
        self.assertEqual(tally["sectors"]["private"]["eligible"], 1)
        self.assertEqual(tally["sectors"]["private"]["recused"], 1)
        with self.assertRaisesMessage(PermissionDenied, "recused"):
            services.cast_vote(self.private_member, ballot, "yes")

    def test_a_ballot_cannot_open_when_a_sector_would_have_no_voter_left(self):
        with use_stand_in_for_charters():
            charter = self.charter(self.orgs.northwind, self.orgs.helios)
            ballot = services.create_ballot(
                self.public_chair,
                committee=self.committee,
                title="Approve the charter",
                subject_type=SubjectType.CHARTER,
                subject_id=charter.pk,
            )
            with self.assertRaisesMessage(DomainError, "No member of the private sector can vote"):
                services.open_ballot(self.public_chair, ballot)
        self.assertEqual(Ballot.objects.get(pk=ballot.pk).status, BallotStatus.DRAFT)
        self.assertFalse(ballot.recusals.exists())

    def test_the_subject_may_refuse_the_opening_with_its_reason(self):
        with use_stand_in_for_charters():
            charter = self.charter(self.orgs.council)
            charter.title = "[blocked] Health records"
            charter.save()
            ballot = services.create_ballot(
                self.public_chair,
                committee=self.committee,
                title="Approve",
                subject_type=SubjectType.CHARTER,
                subject_id=charter.pk,
            )
            response = self.api(self.public_chair).post(f"/api/ballots/{ballot.pk}/open/")
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["detail"], "This charter's data use agreements are not all signed.")

    def test_only_one_ballot_on_a_subject_is_open_at_a_time(self):
        with use_stand_in_for_charters():
            charter = self.charter(self.orgs.council)
            fields = {
                "committee": self.committee,
                "title": "Approve",
                "subject_type": SubjectType.CHARTER,
                "subject_id": charter.pk,
            }
            services.open_ballot(self.public_chair, services.create_ballot(self.public_chair, **fields))
            second = services.create_ballot(self.public_chair, **fields)
            with self.assertRaisesMessage(DomainError, "Another ballot on this project charter is already open"):
                services.open_ballot(self.public_chair, second)

    def test_a_motion_names_no_subject_and_other_ballots_must(self):
        with self.assertRaises(ValidationError) as caught:
            services.create_ballot(
                self.public_chair, committee=self.committee, title="x", subject_type=SubjectType.MOTION, subject_id=3
            )
        self.assertIn("subject_id", caught.exception.message_dict)
        with use_stand_in_for_charters(), self.assertRaises(ValidationError) as caught:
            services.create_ballot(
                self.public_chair, committee=self.committee, title="x", subject_type=SubjectType.CHARTER
            )
        self.assertIn("subject_id", caught.exception.message_dict)

    def test_a_ballot_opens_only_once(self):
        ballot = self.motion()
        response = self.api(self.public_chair).post(f"/api/ballots/{ballot.pk}/open/")
        self.assertEqual(response.status_code, 409)
        self.assertIn("From 'open' it can go to: closed", response.json()["detail"])


class VotingTests(BallotTestCase):
    def test_a_member_may_change_their_vote_until_close_and_the_last_one_counts(self):
        ballot = self.motion()
        services.cast_vote(self.public_member, ballot, "yes")
        services.cast_vote(self.public_member, ballot, "no")
        vote = services.cast_vote(self.public_member, ballot, "abstain")
        self.assertEqual(Vote.objects.filter(ballot=ballot, voter=self.public_member).count(), 1)
        self.assertEqual((vote.choice, vote.changes), ("abstain", 2))
        self.assertEqual(ballot.tally["sectors"]["public"]["abstain"], 1)
        self.assertEqual(verbs(vote), ["vote.cast", "vote.changed", "vote.changed"])
        changes = AuditEvent.objects.filter(verb="vote.changed").order_by("id").values_list("changes", flat=True)
        self.assertEqual(
            [(c["before"]["choice"], c["after"]["choice"]) for c in changes], [("yes", "no"), ("no", "abstain")]
        )

    def test_casting_the_same_vote_again_changes_nothing(self):
        ballot = self.motion()
        services.cast_vote(self.public_member, ballot, "yes")
        vote = services.cast_vote(self.public_member, ballot, "yes")
        self.assertEqual(vote.changes, 0)
        self.assertEqual(verbs(vote), ["vote.cast"])

    def test_the_database_holds_one_vote_per_member(self):
        ballot = self.motion()
        Vote.objects.create(ballot=ballot, voter=self.public_member, sector=Sector.PUBLIC, choice="yes")
        with self.assertRaises(IntegrityError), transaction.atomic():
            Vote.objects.create(ballot=ballot, voter=self.public_member, sector=Sector.PUBLIC, choice="no")

    def test_people_not_on_the_roll_cannot_vote(self):
        ballot = self.motion()
        for person in (self.secretary, self.outsider, self.staff, self.auditor):
            response = self.api(person).post(f"/api/ballots/{ballot.pk}/vote/", {"choice": "yes"})
            self.assertEqual(response.status_code, 403, person)
            self.assertIn("not on this ballot's roll", response.json()["detail"])
        self.assertFalse(Vote.objects.exists())

    def test_a_vote_is_yes_no_or_abstain(self):
        ballot = self.motion()
        response = self.api(self.public_member).post(f"/api/ballots/{ballot.pk}/vote/", {"choice": "maybe"})
        self.assertEqual(response.status_code, 400)
        with self.assertRaises(ValidationError):
            services.cast_vote(self.public_member, ballot, "maybe")

    def test_a_draft_takes_no_votes(self):
        ballot = self.motion(opened=False)
        response = self.api(self.public_member).post(f"/api/ballots/{ballot.pk}/vote/", {"choice": "yes"})
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["detail"], "This ballot is not open yet.")
        self.assertEqual(self.api(self.outsider).post(f"/api/ballots/{ballot.pk}/vote/").status_code, 404)

    def test_a_closed_ballot_refuses_votes_changes_and_recusals(self):
        ballot = self.motion()
        services.cast_vote(self.public_member, ballot, "yes")
        self.close(ballot)
        client = self.api(self.public_member)
        for path, body in (("vote", {"choice": "no"}), ("recuse", {"reason": "A late conflict."})):
            response = client.post(f"/api/ballots/{ballot.pk}/{path}/", body)
            self.assertEqual(response.status_code, 409, path)
            self.assertIn("This ballot is closed", response.json()["detail"])
        response = self.api(self.public_chair).patch(f"/api/ballots/{ballot.pk}/", {"title": "Renamed"})
        self.assertEqual(response.status_code, 409)
        self.assertEqual(self.api(self.public_chair).post(f"/api/ballots/{ballot.pk}/close/").status_code, 409)
        self.assertEqual(Vote.objects.get(ballot=ballot).choice, "yes")

    def test_votes_after_the_closing_time_are_refused_even_before_the_ballot_is_closed(self):
        ballot = self.motion(closes_at=timezone.now() + datetime.timedelta(hours=1))
        Ballot.objects.filter(pk=ballot.pk).update(closes_at=timezone.now() - datetime.timedelta(seconds=1))
        with self.assertRaisesMessage(DomainError, "This ballot closed at"):
            services.cast_vote(self.public_member, ballot, "yes")

    def test_a_member_votes_through_the_api_and_sees_it_in_the_tally(self):
        ballot = self.motion()
        client = self.api(self.private_member)
        response = client.post(f"/api/ballots/{ballot.pk}/vote/", {"choice": "yes"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["choice"], "yes")
        detail = client.get(f"/api/ballots/{ballot.pk}/").json()
        self.assertEqual(detail["my_vote"], "yes")
        self.assertEqual(detail["tally"]["sectors"]["private"]["yes"], 1)


class RecusalTests(BallotTestCase):
    def test_recusal_leaves_the_denominator(self):
        ballot = self.motion(quorum=Decimal("1"))
        services.declare_conflict(self.public_member, ballot, "I advise a bidder.")
        services.cast_vote(self.public_chair, ballot, "yes")
        services.cast_vote(self.private_chair, ballot, "yes")
        services.cast_vote(self.private_member, ballot, "yes")
        tally = ballot.tally
        self.assertEqual(tally["sectors"]["public"], {**tally["sectors"]["public"], "eligible": 1, "recused": 1})
        self.assertTrue(tally["sectors"]["public"]["quorum_met"])
        self.assertEqual(tally["outcome"], Outcome.PASSED)

    def test_a_recused_member_cannot_vote(self):
        ballot = self.motion()
        response = self.api(self.public_member).post(f"/api/ballots/{ballot.pk}/recuse/", {"reason": "My spouse."})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["reason"], "My spouse.")
        response = self.api(self.public_member).post(f"/api/ballots/{ballot.pk}/vote/", {"choice": "yes"})
        self.assertEqual(response.status_code, 403)
        self.assertIn("You are recused from this ballot (My spouse.)", response.json()["detail"])
        self.assertFalse(Vote.objects.exists())

    def test_a_conflict_is_declared_before_voting(self):
        ballot = self.motion()
        services.cast_vote(self.public_member, ballot, "yes")
        with self.assertRaisesMessage(DomainError, "declared before voting"):
            services.declare_conflict(self.public_member, ballot, "Remembered late.")

    def test_a_conflict_needs_a_reason_and_is_declared_once(self):
        ballot = self.motion()
        response = self.api(self.public_member).post(f"/api/ballots/{ballot.pk}/recuse/", {"reason": "  "})
        self.assertEqual(response.status_code, 400)
        services.declare_conflict(self.public_member, ballot, "Consulting.")
        with self.assertRaisesMessage(DomainError, "already recused"):
            services.declare_conflict(self.public_member, ballot, "Again.")

    def test_a_conflict_declared_on_a_draft_holds_when_the_ballot_opens(self):
        ballot = self.motion(opened=False)
        recusal = services.declare_conflict(self.private_member, ballot, "Helios bids for the contract.")
        self.assertIn("conflict.declared", verbs(recusal))
        ballot = services.open_ballot(self.public_chair, ballot)
        self.assertEqual(ballot.tally["sectors"]["private"]["recused"], 1)
        with self.assertRaises(PermissionDenied):
            services.cast_vote(self.private_member, ballot, "no")

    def test_only_voters_declare_conflicts(self):
        ballot = self.motion()
        for person in (self.secretary, self.outsider):
            response = self.api(person).post(f"/api/ballots/{ballot.pk}/recuse/", {"reason": "None of my business."})
            self.assertEqual(response.status_code, 403)


class ClosingTests(BallotTestCase):
    def test_a_co_chair_closes_the_ballot_and_the_tally_is_frozen(self):
        ballot = self.motion()
        self.votes(ballot, public_chair="yes", public_member="yes", private_chair="yes", private_member="no")
        response = self.api(self.private_chair).post(f"/api/ballots/{ballot.pk}/close/")
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual((body["status"], body["outcome"]), ("closed", "passed"))
        self.assertEqual(body["tally"]["sectors"]["private"]["support"], 0.5)
        self.assertEqual(body["tally"]["parity_support"], 0.75)
        ballot.refresh_from_db()
        self.assertEqual(ballot.result, body["tally"])
        self.assertEqual(ballot.closed_by, self.private_chair)
        closing = AuditEvent.objects.get(verb="ballot.closed")
        self.assertEqual(closing.changes["after"]["tally"], body["tally"])

    def test_members_and_the_secretary_cannot_open_or_close(self):
        ballot = self.motion(opened=False)
        for person in (self.public_member, self.secretary):
            self.assertEqual(self.api(person).post(f"/api/ballots/{ballot.pk}/open/").status_code, 403)
        services.open_ballot(self.public_chair, ballot)
        for person in (self.public_member, self.secretary, self.outsider):
            self.assertEqual(self.api(person).post(f"/api/ballots/{ballot.pk}/close/").status_code, 403)

    def test_closing_applies_the_outcome_to_the_subject_in_the_same_transaction(self):
        with use_stand_in_for_charters():
            charter = self.charter(self.orgs.council)
            ballot = services.create_ballot(
                self.public_chair,
                committee=self.committee,
                title="Approve",
                subject_type=SubjectType.CHARTER,
                subject_id=charter.pk,
            )
            services.open_ballot(self.public_chair, ballot)
            self.votes(ballot, public_chair="yes", private_chair="yes", private_member="yes")
            self.close(ballot)
        applied = AuditEvent.objects.get(verb="charter.outcome_applied")
        self.assertEqual(applied.changes["after"], {"ballot": ballot.pk, "outcome": "passed"})

    def test_an_outcome_that_cannot_be_applied_leaves_the_ballot_open(self):
        from tests.governance import stand_in_subject

        with use_stand_in_for_charters():
            charter = self.charter(self.orgs.council)
            ballot = services.create_ballot(
                self.public_chair,
                committee=self.committee,
                title="Approve",
                subject_type=SubjectType.CHARTER,
                subject_id=charter.pk,
            )
            services.open_ballot(self.public_chair, ballot)

            def refuse(subject, ballot, actor):
                raise DomainError("The pool cannot cover this allocation.")

            original = stand_in_subject.apply_outcome
            stand_in_subject.apply_outcome = refuse
            try:
                # The public co-chair asks first; the private co-chair's request closes it.
                self.api(self.public_chair).post(f"/api/ballots/{ballot.pk}/close/")
                response = self.api(self.private_chair).post(f"/api/ballots/{ballot.pk}/close/")
            finally:
                stand_in_subject.apply_outcome = original
        self.assertEqual(response.status_code, 409)
        ballot.refresh_from_db()
        self.assertEqual((ballot.status, ballot.outcome, ballot.result), (BallotStatus.OPEN, "", None))

    def test_the_system_closes_a_ballot_at_its_closing_time_once(self):
        ballot = self.motion(closes_at=timezone.now() + datetime.timedelta(hours=2))
        self.votes(ballot, public_chair="yes", private_chair="yes")
        self.assertEqual(services.close_due_ballots(), [])
        later = timezone.now() + datetime.timedelta(hours=3)
        self.assertEqual(services.close_due_ballots(later), [ballot.pk])
        self.assertEqual(services.close_due_ballots(later), [])
        ballot.refresh_from_db()
        self.assertEqual((ballot.status, ballot.outcome, ballot.closed_by), (BallotStatus.CLOSED, "passed", None))
        self.assertEqual(verbs(ballot).count("ballot.closed"), 1)

    def test_the_system_does_not_close_a_ballot_before_its_time(self):
        ballot = self.motion(closes_at=timezone.now() + datetime.timedelta(hours=2))
        services.close_ballot(None, ballot)
        ballot.refresh_from_db()
        self.assertEqual(ballot.status, BallotStatus.OPEN)

    def test_an_empty_ballot_closes_without_quorum(self):
        ballot = self.motion()
        self.close(ballot)
        self.assertEqual(Ballot.objects.get(pk=ballot.pk).outcome, Outcome.NO_QUORUM)


class DeadlockTests(BallotTestCase):
    def deadlock(self) -> Ballot:
        ballot = self.motion(method=VotingMethod.DOUBLE_MAJORITY)
        self.votes(ballot, public_chair="yes", public_member="yes", private_chair="no", private_member="no")
        return self.close(ballot)

    def test_sectors_that_disagree_deadlock_and_both_co_chairs_are_flagged(self):
        ballot = self.deadlock()
        self.assertEqual(ballot.outcome, Outcome.DEADLOCKED)
        flag = AuditEvent.objects.get(verb="ballot.deadlocked")
        self.assertEqual(set(flag.changes["after"]["co_chairs"]), {self.public_chair.pk, self.private_chair.pk})
        self.assertEqual(list(Ballot.objects.unresolved_deadlocks()), [ballot])

    def test_a_deadlock_can_be_put_to_a_second_ballot_linked_to_the_first(self):
        ballot = self.deadlock()
        second = services.start_second_ballot(self.public_chair, ballot)
        self.assertEqual(second.previous_ballot, ballot)
        self.assertEqual(second.title, "Second ballot: Adopt the meeting calendar")
        self.assertEqual(second.method, VotingMethod.DOUBLE_MAJORITY)
        self.assertEqual(list(Ballot.objects.unresolved_deadlocks()), [])
        response = self.api(self.public_member).get(f"/api/ballots/{ballot.pk}/")
        self.assertEqual(response.json()["outcome"], "deadlocked")

    def test_a_follow_up_decides_the_same_subject_and_follows_a_closed_ballot(self):
        ballot = self.deadlock()
        open_one = self.motion("Another motion")
        with self.assertRaises(ValidationError) as caught:
            services.create_ballot(
                self.public_chair,
                committee=self.committee,
                title="Follow-up",
                subject_type=SubjectType.MOTION,
                previous_ballot=open_one,
            )
        self.assertIn("Only a closed ballot", str(caught.exception))
        with use_stand_in_for_charters(), self.assertRaises(ValidationError) as caught:
            services.create_ballot(
                self.public_chair,
                committee=self.committee,
                title="Follow-up",
                subject_type=SubjectType.CHARTER,
                subject_id=self.charter(self.orgs.council).pk,
                previous_ballot=ballot,
            )
        self.assertIn("same subject", str(caught.exception))


class BallotAPITests(BallotTestCase):
    def test_anonymous_callers_are_asked_to_authenticate(self):
        ballot = self.motion()
        self.assertEqual(self.api().get("/api/ballots/").status_code, 401)
        self.assertEqual(self.api().post(f"/api/ballots/{ballot.pk}/vote/", {"choice": "yes"}).status_code, 401)

    def test_co_chairs_and_the_secretary_prepare_ballots_and_others_cannot(self):
        payload = {"committee": self.committee.pk, "title": "Adopt the calendar", "subject_type": "motion"}
        for person in (self.public_member, self.staff, self.outsider, self.auditor):
            response = self.api(person).post("/api/ballots/", payload)
            self.assertEqual(response.status_code, 403, person)
        response = self.api(self.secretary).post("/api/ballots/", payload)
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual((body["status"], body["method"], body["quorum"]), ("draft", "parity_majority", "0.500"))
        response = self.api(self.secretary).patch(f"/api/ballots/{body['id']}/", {"quorum": "0.750"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["quorum"], "0.750")

    def test_nothing_is_deleted_through_the_api(self):
        ballot = self.motion()
        self.assertEqual(self.api(self.admin).delete(f"/api/ballots/{ballot.pk}/").status_code, 405)

    def test_the_tally_has_the_published_shape(self):
        ballot = self.motion()
        self.votes(ballot, public_chair="yes", private_member="abstain")
        tally = self.api(self.public_member).get(f"/api/ballots/{ballot.pk}/").json()["tally"]
        self.assertEqual(
            tally,
            {
                "sectors": {
                    "public": {
                        "eligible": 2,
                        "recused": 0,
                        "yes": 1,
                        "no": 0,
                        "abstain": 0,
                        "support": 1.0,
                        "quorum_met": True,
                    },
                    "private": {
                        "eligible": 2,
                        "recused": 0,
                        "yes": 0,
                        "no": 0,
                        "abstain": 1,
                        "support": 0.0,
                        "quorum_met": True,
                    },
                },
                "parity_support": 0.5,
                "quorum_met": True,
                "outcome": "deadlocked",
            },
        )

    def test_open_tallies_are_shown_to_committee_members_and_closed_ones_to_everyone(self):
        ballot = self.motion()
        services.declare_conflict(self.public_member, ballot, "Advisor to a bidder.")
        for person in (self.secretary, self.public_member, self.admin):
            body = self.api(person).get(f"/api/ballots/{ballot.pk}/").json()
            self.assertIsNotNone(body["tally"], person)
            self.assertEqual(body["recusals"][0]["reason"], "Advisor to a bidder.")
        for person in (self.outsider, self.staff):
            body = self.api(person).get(f"/api/ballots/{ballot.pk}/").json()
            self.assertIsNone(body["tally"])
            self.assertEqual(body["recusals"], [])
        self.close(ballot)
        self.assertIsNotNone(self.api(self.outsider).get(f"/api/ballots/{ballot.pk}/").json()["tally"])

    def test_drafts_are_seen_by_the_committee_and_open_ballots_by_everyone(self):
        draft = self.motion("A draft", opened=False)
        opened = self.motion("An open one")
        for person, sees_draft in ((self.secretary, True), (self.public_member, True), (self.staff, False)):
            ids = [row["id"] for row in self.api(person).get("/api/ballots/").json()["results"]]
            self.assertEqual(draft.pk in ids, sees_draft, person)
            self.assertIn(opened.pk, ids)
        self.assertEqual(self.api(self.outsider).get(f"/api/ballots/{draft.pk}/").status_code, 404)

    def test_the_list_shows_open_ballots_first_with_my_vote(self):
        closed = self.motion("Closed")
        self.close(closed)
        first = self.motion("Open")
        services.cast_vote(self.public_member, first, "no")
        rows = self.api(self.public_member).get("/api/ballots/").json()["results"]
        self.assertEqual([row["title"] for row in rows], ["Open", "Closed"])
        self.assertEqual(rows[0]["my_vote"], "no")
        self.assertIsNone(rows[1]["my_vote"])

    def test_listing_ballots_costs_the_same_queries_for_few_and_many(self):
        def make(n):
            ballot = self.motion(f"Motion {n}")
            self.votes(ballot, public_chair="yes", private_chair="no")
            services.declare_conflict(self.private_member, ballot, "Conflict.")
            if n % 2:
                self.close(ballot)

        make(0)
        client = self.api(self.public_member)
        client.get("/api/ballots/")
        with CaptureQueriesContext(connection) as few:
            self.assertEqual(client.get("/api/ballots/").status_code, 200)
        for n in range(1, 9):
            make(n)
        with self.assertNumQueries(len(few)):
            response = client.get("/api/ballots/")
        self.assertEqual(response.json()["count"], 9)

    def test_the_tally_costs_the_same_queries_for_four_voters_and_forty(self):
        small = self.motion("Small")
        self.votes(small, public_chair="yes", private_chair="no")
        with CaptureQueriesContext(connection) as four:
            small.live_tally()
        for n in range(18):
            self.seat(f"pub{n}", self.orgs.council)
            self.seat(f"pri{n}", self.orgs.helios)
        large = self.motion("Large")
        for membership in self.committee.memberships.filter(role=Role.MEMBER):
            services.cast_vote(membership.user, large, "yes")
        with self.assertNumQueries(len(four)):
            tally = large.live_tally()
        self.assertEqual(tally["sectors"]["public"]["eligible"], 20)
        self.assertEqual(tally["sectors"]["public"]["yes"], 19)

    def test_the_schema_documents_the_ballot_actions(self):
        schema = self.api(self.public_member).get("/api/schema/?format=json").json()
        for path in (
            "/api/ballots/",
            "/api/ballots/{id}/vote/",
            "/api/ballots/{id}/recuse/",
            "/api/ballots/{id}/open/",
        ):
            self.assertIn(path, schema["paths"])


class BallotResourceChecks(APIResourceChecks, BallotTestCase):
    """The generic checks every API resource gets, for /api/ballots/."""

    url = "/api/ballots/"
    allowed_reader = "public_member"
    refused_writer = "public_member"
    allowed_writer = "secretary"

    def make_object(self, n):
        # Half drafts, half open: the list's cost must not depend on the mix either.
        return self.motion(f"Motion {n}", opened=bool(n % 2)) if n % 2 else self.motion(f"Draft {n}", opened=False)

    def create_payload(self):
        return {"committee": self.committee.pk, "title": "Adopt the calendar", "subject_type": "motion"}

    def update_payload(self):
        return {"title": "Adopt the 2027 calendar"}

    def test_listing_costs_the_same_queries_for_few_and_many_rows(self):
        # An empty list skips the tally and recusal queries: start the baseline from one row.
        self.make_object(1)
        super().test_listing_costs_the_same_queries_for_few_and_many_rows()

    def test_a_caller_without_the_right_cannot_create_or_change(self):
        client = self.api(self.public_member)
        self.assertEqual(client.post(self.url, self.create_payload(), format="json").status_code, 403)
        draft = self.motion("A draft", opened=False)
        self.assertEqual(client.patch(f"{self.url}{draft.pk}/", self.update_payload(), format="json").status_code, 403)
