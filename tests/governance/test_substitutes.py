"""Substitutes (DESIGN.md 2.1, issue 19): a member names a person of their own sector to vote in
their seat for one ballot, one meeting or a period; the substitute votes in the seat, never
beside it; recusal applies to both organizations; the tally, roll call and minutes say who voted
for whom; one vote per seat, by the database."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import TransactionTestCase
from django.utils import timezone

from governance import services
from governance.choices import SubjectType, SubstitutionScope, SubstitutionStatus, VotingMethod
from governance.exceptions import DomainError
from governance.models import AuditEvent, Substitution, Vote
from governance.transparency.replay import replay_votes
from tests.base import make_body
from tests.governance.ballot_support import FAST_HASHING, BallotTestCase, use_stand_in_for_charters
from tests.support.races import together

TODAY = timezone.localdate


class SubstituteTestCase(BallotTestCase):
    """Personas: Erik (private member, Helios) sends Tara (Helios staff, no seat); Carla (public
    member, Council) sends Sam (Council staff, no seat)."""

    def name(self, member, substitute, scope=SubstitutionScope.BALLOT, **fields):
        return services.name_substitute(member, committee=self.committee, substitute=substitute, scope=scope, **fields)

    def period(self, member, substitute, days_before=1, days_after=7):
        return self.name(
            member,
            substitute,
            SubstitutionScope.PERIOD,
            starts_on=TODAY() - datetime.timedelta(days=days_before),
            ends_on=TODAY() + datetime.timedelta(days=days_after),
        )


class SubstitutesInEveryTallyMethodTests(SubstituteTestCase):
    # Public: both yes. Private: one yes, one no. Parity support 3/4 passes a parity majority,
    # but the private sector's 1/2 misses the double majority's and supermajority's bars.
    EXPECTED = {
        VotingMethod.PARITY_MAJORITY: "passed",
        VotingMethod.DOUBLE_MAJORITY: "deadlocked",
        VotingMethod.DOUBLE_SUPERMAJORITY: "deadlocked",
    }

    def test_a_substitute_in_the_seat_gives_the_same_tally_as_the_member_in_every_method(self):
        for method, outcome in self.EXPECTED.items():
            with self.subTest(method=method):
                by_member = self.motion(f"By the members ({method})", method=method)
                self.votes(by_member, public_chair="yes", public_member="yes", private_chair="yes", private_member="no")
                by_member = self.close(by_member)

                by_substitutes = self.motion(f"By substitutes ({method})", method=method)
                self.name(self.private_member, self.private_staff, ballot=by_substitutes)
                self.name(self.public_member, self.staff, ballot=by_substitutes)
                self.votes(by_substitutes, public_chair="yes", private_chair="yes")
                services.cast_vote(self.staff, by_substitutes, "yes")
                services.cast_vote(self.private_staff, by_substitutes, "no")
                by_substitutes = self.close(by_substitutes)

                self.assertEqual(by_member.outcome, outcome)
                self.assertEqual(by_substitutes.outcome, outcome)
                self.assertEqual(by_substitutes.result, by_member.result)
                # Never beside the member: each sector cast exactly as many votes as it has seats.
                for sector in ("public", "private"):
                    row = by_substitutes.result["sectors"][sector]
                    self.assertEqual(row["yes"] + row["no"] + row["abstain"], 2)

    def test_the_substitutes_vote_is_counted_in_the_members_sector_and_seat(self):
        ballot = self.motion()
        self.name(self.private_member, self.private_staff, ballot=ballot)
        vote = services.cast_vote(self.private_staff, ballot, "no")
        self.assertEqual(
            (vote.voter_id, vote.cast_by_id, vote.sector), (self.private_member.pk, self.private_staff.pk, "private")
        )
        self.assertEqual(ballot.live_tally()["sectors"]["private"]["no"], 1)


class WhoVotesInTheSeatTests(SubstituteTestCase):
    def test_the_member_cannot_vote_while_their_substitute_is_named_and_can_after_withdrawing(self):
        ballot = self.motion()
        substitution = self.name(self.private_member, self.private_staff, ballot=ballot)
        with self.assertRaisesMessage(DomainError, "withdraw that substitution to vote yourself"):
            services.cast_vote(self.private_member, ballot, "yes")
        services.withdraw_substitution(self.private_member, substitution)
        services.cast_vote(self.private_member, ballot, "yes")
        with self.assertRaises(PermissionDenied):
            services.cast_vote(self.private_staff, ballot, "no")
        self.assertEqual(Vote.objects.get(ballot=ballot, voter=self.private_member).choice, "yes")

    def test_the_substitution_cannot_be_withdrawn_once_the_substitute_has_voted(self):
        ballot = self.motion()
        substitution = self.name(self.private_member, self.private_staff, ballot=ballot)
        services.cast_vote(self.private_staff, ballot, "abstain")
        with self.assertRaisesMessage(DomainError, "can no longer be withdrawn"):
            services.withdraw_substitution(self.private_member, substitution)
        # The substitute may change their vote in the seat; the last one counts.
        services.cast_vote(self.private_staff, ballot, "yes")
        vote = Vote.objects.get(ballot=ballot, voter=self.private_member)
        self.assertEqual((vote.choice, vote.changes), ("yes", 1))

    def test_a_substitute_does_not_overturn_the_members_own_vote(self):
        ballot = self.motion()
        services.cast_vote(self.private_member, ballot, "yes")
        self.period(self.private_member, self.private_staff)
        with self.assertRaisesMessage(DomainError, "has voted in this seat already"):
            services.cast_vote(self.private_staff, ballot, "no")
        # And the member, with a substitute in force, does not change it either.
        with self.assertRaises(DomainError):
            services.cast_vote(self.private_member, ballot, "no")
        self.assertEqual(Vote.objects.get(ballot=ballot, voter=self.private_member).choice, "yes")

    def test_naming_a_substitute_for_a_ballot_already_voted_on_is_refused(self):
        ballot = self.motion()
        services.cast_vote(self.private_member, ballot, "yes")
        with self.assertRaisesMessage(DomainError, "your vote stands"):
            self.name(self.private_member, self.private_staff, ballot=ballot)

    def test_the_database_refuses_a_second_vote_for_one_seat(self):
        ballot = self.motion()
        substitution = self.name(self.private_member, self.private_staff, ballot=ballot)
        services.cast_vote(self.private_staff, ballot, "no")
        with self.assertRaises(IntegrityError), transaction.atomic():
            Vote.objects.create(ballot=ballot, voter=self.private_member, sector="private", choice="yes")
        with self.assertRaises(IntegrityError), transaction.atomic():
            Vote.objects.create(
                ballot=ballot,
                voter=self.private_member,
                cast_by=self.private_staff,
                substitution=substitution,
                sector="private",
                choice="yes",
            )
        self.assertEqual(Vote.objects.filter(ballot=ballot).count(), 1)

    def test_a_substitutes_vote_names_its_substitution_by_constraint(self):
        ballot = self.motion()
        with self.assertRaises(IntegrityError), transaction.atomic():
            Vote.objects.create(
                ballot=ballot, voter=self.private_member, cast_by=self.private_staff, sector="private", choice="yes"
            )


class WhoMayBeASubstituteTests(SubstituteTestCase):
    def test_the_substitute_is_of_an_organization_of_the_same_sector(self):
        ballot = self.motion()
        with self.assertRaisesMessage(ValidationError, "only a person of that sector votes in it"):
            self.name(self.private_member, self.staff, ballot=ballot)
        with self.assertRaisesMessage(ValidationError, "belongs to no member organization"):
            self.name(self.private_member, self.outsider, ballot=ballot)
        self.assertFalse(Substitution.objects.exists())

    def test_a_member_with_a_voting_seat_is_no_substitute(self):
        ballot = self.motion()
        with self.assertRaisesMessage(ValidationError, "cannot vote in a second one"):
            self.name(self.private_member, self.private_chair, ballot=ballot)

    def test_a_non_voting_seat_holder_of_the_sector_may_substitute(self):
        ballot = self.motion()
        # The secretary (Ministry, public) holds a seat without a vote.
        self.name(self.public_member, self.secretary, ballot=ballot)
        services.cast_vote(self.secretary, ballot, "yes")
        self.assertEqual(Vote.objects.get(ballot=ballot, voter=self.public_member).cast_by, self.secretary)

    def test_only_the_member_names_a_substitute_for_their_own_seat(self):
        # Nobody without a voting seat: the secretary, an administrator, staff.
        for person in (self.secretary, self.admin, self.staff, self.outsider):
            with self.subTest(person=person.username), self.assertRaises(PermissionDenied):
                self.name(person, self.private_staff, ballot=self.motion(f"For {person.username}"))
        # A co-chair naming a substitute names one for their own seat, never another member's.
        ballot = self.motion()
        response = self.api(self.private_chair).post(
            "/api/substitutions/",
            {
                "committee": self.committee.pk,
                "member": self.private_member.pk,
                "substitute": self.private_staff.pk,
                "scope": "ballot",
                "ballot": ballot.pk,
            },
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["member"], self.private_chair.pk)
        with self.assertRaises(DomainError):
            services.cast_vote(self.private_chair, ballot, "yes")
        services.cast_vote(self.private_member, ballot, "yes")  # Erik's own seat is untouched

    def test_only_the_member_withdraws(self):
        substitution = self.name(self.private_member, self.private_staff, ballot=self.motion())
        for person in (self.private_chair, self.private_staff, self.admin):
            with self.subTest(person=person.username), self.assertRaises(PermissionDenied):
                services.withdraw_substitution(person, substitution)
        self.assertEqual(Substitution.objects.get(pk=substitution.pk).status, SubstitutionStatus.ACTIVE)


class RecusalTests(SubstituteTestCase):
    def test_a_substitute_whose_organization_is_a_party_cannot_vote_in_the_seat(self):
        with use_stand_in_for_charters():
            charter = self.charter(self.orgs.council)  # Sam's organization leads it
            ballot = services.create_ballot(
                self.public_chair,
                committee=self.committee,
                title="Approve the corpus",
                subject_type=SubjectType.CHARTER,
                subject_id=charter.pk,
            )
            self.name(self.public_chair, self.staff, ballot=ballot)
            ballot = services.open_ballot(self.private_chair, ballot)
            with self.assertRaisesMessage(PermissionDenied, "National Research Council, is a party"):
                services.cast_vote(self.staff, ballot, "yes")
            response = self.api(self.staff).post(f"/api/ballots/{ballot.pk}/vote/", {"choice": "yes"}, format="json")
            self.assertEqual(response.status_code, 403)
            self.assertIn("is a party", response.json()["detail"])
        self.assertFalse(Vote.objects.filter(ballot=ballot).exists())

    def test_the_members_own_recusal_still_removes_the_seat(self):
        with use_stand_in_for_charters():
            charter = self.charter(self.orgs.council)  # Carla's organization: she is recused
            ballot = services.create_ballot(
                self.public_chair,
                committee=self.committee,
                title="Approve the corpus",
                subject_type=SubjectType.CHARTER,
                subject_id=charter.pk,
            )
            self.period(self.public_member, self.secretary)
            ballot = services.open_ballot(self.private_chair, ballot)
            with self.assertRaisesMessage(PermissionDenied, "the seat leaves the count"):
                services.cast_vote(self.secretary, ballot, "yes")
            with self.assertRaisesMessage(DomainError, "recused"):
                self.name(self.public_member, self.staff, ballot=ballot)
            self.assertEqual(ballot.live_tally()["sectors"]["public"]["eligible"], 1)


class ScopeTests(SubstituteTestCase):
    def test_a_period_covers_the_committees_ballots_within_it_only(self):
        ballot = self.motion()
        future = self.name(
            self.private_member,
            self.private_staff,
            SubstitutionScope.PERIOD,
            starts_on=TODAY() + datetime.timedelta(days=3),
            ends_on=TODAY() + datetime.timedelta(days=5),
        )
        with self.assertRaises(PermissionDenied):
            services.cast_vote(self.private_staff, ballot, "yes")
        services.withdraw_substitution(self.private_member, future)
        self.period(self.private_member, self.private_staff)
        services.cast_vote(self.private_staff, ballot, "yes")
        second = self.motion("Another motion")
        services.cast_vote(self.private_staff, second, "no")
        self.assertEqual(Vote.objects.filter(cast_by=self.private_staff).count(), 2)

    def test_overlapping_periods_are_refused_and_periods_are_bounded(self):
        self.period(self.private_member, self.private_staff)
        with self.assertRaisesMessage(DomainError, "part of this period already"):
            self.period(self.private_member, self.private_staff, days_before=0, days_after=2)
        with self.assertRaises(ValidationError):
            self.name(
                self.public_member,
                self.staff,
                SubstitutionScope.PERIOD,
                starts_on=TODAY(),
                ends_on=TODAY() - datetime.timedelta(days=1),
            )

    def test_a_meeting_covers_the_ballots_on_its_agenda(self):
        meeting = services.schedule_meeting(
            self.secretary,
            committee=self.committee,
            title="December sitting",
            starts_at=timezone.now() + datetime.timedelta(days=2),
        )
        on_agenda = self.motion("On the agenda", opened=False)
        services.add_agenda_item(self.secretary, meeting, title="Calendar", ballot=on_agenda)
        on_agenda = services.open_ballot(self.public_chair, on_agenda)
        elsewhere = self.motion("Not on the agenda")
        self.name(self.private_member, self.private_staff, SubstitutionScope.MEETING, meeting=meeting)
        services.cast_vote(self.private_staff, on_agenda, "yes")
        with self.assertRaises(PermissionDenied):
            services.cast_vote(self.private_staff, elsewhere, "yes")
        services.cast_vote(self.private_member, elsewhere, "no")

    def test_the_narrowest_substitution_decides_when_several_cover_a_ballot(self):
        ballot = self.motion()
        self.period(self.private_member, self.private_staff)
        # Another Helios person, without a seat, for this one ballot.
        other = services.create_user(
            self.admin,
            username="hana",
            password="x-Very-long-pass-1",
            email="hana@example.org",
            organization=self.orgs.helios,
        )
        self.name(self.private_member, other, ballot=ballot)
        with self.assertRaises(PermissionDenied):
            services.cast_vote(self.private_staff, ballot, "yes")
        self.assertEqual(services.cast_vote(other, ballot, "yes").cast_by, other)


class RecordTests(SubstituteTestCase):
    def test_the_roll_call_says_who_voted_for_whom(self):
        ballot = self.motion()
        self.name(self.private_member, self.private_staff, ballot=ballot)
        self.votes(ballot, public_chair="yes", public_member="yes", private_chair="yes")
        services.cast_vote(self.private_staff, ballot, "no", "Helios asked me to.")
        ballot = self.close(ballot)
        row = next(r for r in ballot.roll_call() if r["username"] == self.private_member.username)
        self.assertEqual(row["member"], f"{self.private_staff} for {self.private_member}")
        self.assertEqual(
            (row["vote"], row["substitute"], row["vote_reason"]), ("no", str(self.private_staff), "Helios asked me to.")
        )
        page = self.client
        page.force_login(self.public_member)
        self.assertContains(page.get(f"/ballots/{ballot.pk}/"), f"{self.private_staff} for {self.private_member}")

    def test_the_tally_page_says_who_voted_for_whom_while_open(self):
        ballot = self.motion()
        self.name(self.private_member, self.private_staff, ballot=ballot)
        services.cast_vote(self.private_staff, ballot, "no")
        self.client.force_login(self.public_member)
        panel = self.client.get(f"/ballots/{ballot.pk}/tally/")
        self.assertContains(panel, f"{self.private_staff} for {self.private_member} (private)")
        self.client.force_login(self.outsider)
        self.assertNotContains(self.client.get(f"/ballots/{ballot.pk}/tally/"), f"{self.private_staff} for")

    def test_the_minutes_say_who_voted_for_whom(self):
        meeting = services.schedule_meeting(
            self.secretary, committee=self.committee, title="December sitting", starts_at=timezone.now()
        )
        ballot = self.motion("On the agenda", opened=False)
        services.add_agenda_item(self.secretary, meeting, title="Calendar", ballot=ballot)
        ballot = services.open_ballot(self.public_chair, ballot)
        self.name(self.private_member, self.private_staff, SubstitutionScope.MEETING, meeting=meeting)
        self.votes(ballot, public_chair="yes", public_member="yes", private_chair="yes")
        services.cast_vote(self.private_staff, ballot, "yes")
        self.close(ballot)
        self.client.force_login(self.secretary)
        minutes = self.client.get(f"/meetings/{meeting.pk}/minutes/")
        self.assertContains(minutes, f"{self.private_staff} for {self.private_member}")

    def test_the_api_vote_says_on_whose_behalf(self):
        ballot = self.motion()
        self.name(self.private_member, self.private_staff, ballot=ballot)
        response = self.api(self.private_staff).post(f"/api/ballots/{ballot.pk}/vote/", {"choice": "no"}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(
            (body["voter"], body["cast_by"], body["on_behalf_of"], body["sector"]),
            (self.private_member.pk, self.private_staff.pk, self.private_member.pk, "private"),
        )
        own = self.api(self.private_chair).post(f"/api/ballots/{ballot.pk}/vote/", {"choice": "yes"}, format="json")
        self.assertEqual((own.json()["cast_by"], own.json()["on_behalf_of"]), (None, None))
        refused = self.api(self.private_member).post(
            f"/api/ballots/{ballot.pk}/vote/", {"choice": "yes"}, format="json"
        )
        self.assertEqual(refused.status_code, 409)
        self.assertIn("withdraw that substitution", refused.json()["detail"])

    def test_naming_withdrawing_and_voting_are_audited_and_the_votes_replay(self):
        ballot = self.motion()
        first = self.name(self.private_member, self.private_staff, ballot=ballot)
        services.withdraw_substitution(self.private_member, first)
        self.name(self.private_member, self.private_staff, ballot=ballot)
        vote = services.cast_vote(self.private_staff, ballot, "no")
        services.cast_vote(self.private_staff, ballot, "yes")
        verbs = list(
            AuditEvent.objects.filter(object_type="governance.substitution")
            .order_by("id")
            .values_list("verb", flat=True)
        )
        self.assertEqual(verbs, ["substitution.named", "substitution.withdrawn", "substitution.named"])
        cast = AuditEvent.objects.get(verb="vote.cast", object_id=str(vote.pk))
        self.assertEqual(cast.actor, self.private_staff)
        self.assertEqual(
            (cast.changes["after"]["cast_by"], cast.changes["after"]["on_behalf_of"]),
            (self.private_staff.pk, self.private_member.pk),
        )
        self.assertEqual(replay_votes(), [])
        # A table changed behind the log's back is seen: the seat's vote credited to the member.
        Vote.objects.filter(pk=vote.pk).update(cast_by=None, substitution=None)
        self.assertEqual(len(replay_votes()), 1)

    def test_the_sectors_co_chair_and_the_substitute_are_told(self):
        ballot = self.motion()
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            self.name(self.private_member, self.private_staff, ballot=ballot)
        recipients = sorted(address for message in mail.outbox for address in message.to)
        self.assertEqual(recipients, [self.private_chair.email, self.private_staff.email])
        chair_mail = next(m for m in mail.outbox if m.to == [self.private_chair.email])
        self.assertIn(f"{self.private_staff} for {self.private_member}", chair_mail.subject)


class SubstitutePagesAndApiTests(SubstituteTestCase):
    def test_a_member_sends_a_substitute_from_the_page_and_the_substitute_votes_from_home(self):
        ballot = self.motion()
        self.client.force_login(self.private_member)
        detail = self.client.get(f"/ballots/{ballot.pk}/")
        self.assertContains(detail, f"/substitutes/?ballot={ballot.pk}")
        form = self.client.get(f"/substitutes/?ballot={ballot.pk}")
        self.assertContains(form, "Send a substitute")
        self.assertNotContains(form, f">{self.staff} —")  # public people are not offered for a private seat
        response = self.client.post(
            "/substitutes/",
            {
                "committee": self.committee.pk,
                "substitute": self.private_staff.pk,
                "scope": "ballot",
                "ballot": ballot.pk,
            },
        )
        self.assertRedirects(response, "/substitutes/")
        self.assertContains(self.client.get(f"/ballots/{ballot.pk}/"), "votes in your seat")

        self.client.force_login(self.private_staff)
        home = self.client.get("/")
        self.assertContains(home, "Waiting for your vote as a substitute")
        self.assertContains(home, f"in {self.private_member}'s seat")
        self.assertContains(self.client.get(f"/ballots/{ballot.pk}/"), "Your vote as a substitute")
        self.client.post(f"/ballots/{ballot.pk}/vote/", {"choice": "abstain", "on_behalf_of": self.private_member.pk})
        self.assertEqual(Vote.objects.get(ballot=ballot, voter=self.private_member).cast_by, self.private_staff)
        self.assertNotContains(self.client.get("/"), "Waiting for your vote as a substitute")

    def test_a_refused_substitute_is_explained_on_the_form(self):
        self.client.force_login(self.private_member)
        response = self.client.post(
            "/substitutes/",
            {
                "committee": self.committee.pk,
                "substitute": self.private_chair.pk,
                "scope": "period",
                "starts_on": TODAY().isoformat(),
                "ends_on": TODAY().isoformat(),
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "cannot vote in a second one")
        self.assertFalse(Substitution.objects.exists())

    def test_the_api_lists_substitutions_to_those_concerned_only(self):
        substitution = self.name(self.private_member, self.private_staff, ballot=self.motion())
        for person, sees in (
            (self.private_member, True),
            (self.private_staff, True),
            (self.public_chair, True),
            (self.secretary, True),
            (self.public_member, False),
            (self.outsider, False),
        ):
            with self.subTest(person=person.username):
                rows = self.api(person).get("/api/substitutions/").json()["results"]
                self.assertEqual([r["id"] for r in rows], [substitution.pk] if sees else [])
                detail = self.api(person).get(f"/api/substitutions/{substitution.pk}/")
                self.assertEqual(detail.status_code, 200 if sees else 404)
        self.assertEqual(self.api().get("/api/substitutions/").status_code, 401)

    def test_the_api_names_and_withdraws_with_clear_refusals(self):
        ballot = self.motion()
        api = self.api(self.private_member)
        bad = api.post(
            "/api/substitutions/",
            {"committee": self.committee.pk, "substitute": self.staff.pk, "scope": "ballot", "ballot": ballot.pk},
            format="json",
        )
        self.assertEqual(bad.status_code, 400)
        self.assertIn("sector", str(bad.json()))
        missing = api.post(
            "/api/substitutions/",
            {"committee": self.committee.pk, "substitute": self.private_staff.pk, "scope": "ballot"},
            format="json",
        )
        self.assertEqual(missing.status_code, 400)
        created = api.post(
            "/api/substitutions/",
            {
                "committee": self.committee.pk,
                "substitute": self.private_staff.pk,
                "scope": "ballot",
                "ballot": ballot.pk,
            },
            format="json",
        )
        self.assertEqual(created.status_code, 201, created.content)
        again = api.post(
            "/api/substitutions/",
            {
                "committee": self.committee.pk,
                "substitute": self.private_staff.pk,
                "scope": "ballot",
                "ballot": ballot.pk,
            },
            format="json",
        )
        self.assertEqual(again.status_code, 400)
        self.assertIn("already named a substitute for this ballot", str(again.json()))
        pk = created.json()["id"]
        self.assertEqual(self.api(self.private_staff).post(f"/api/substitutions/{pk}/withdraw/").status_code, 403)
        withdrawn = api.post(f"/api/substitutions/{pk}/withdraw/")
        self.assertEqual((withdrawn.status_code, withdrawn.json()["status"]), (200, "withdrawn"))
        self.assertEqual(api.post(f"/api/substitutions/{pk}/withdraw/").status_code, 409)


@pytest.mark.postgres
@FAST_HASHING
class ConcurrentSeatTests(TransactionTestCase):
    """Two attempts at one seat at the same moment, on PostgreSQL's row locks and constraint."""

    def setUp(self):
        self.body = make_body()
        for name, value in vars(self.body).items():
            setattr(self, name, value)

    motion = BallotTestCase.motion

    def test_a_member_and_their_substitute_voting_at_once_leave_one_vote_for_the_seat(self):
        for attempt in range(3):
            ballot = self.motion(f"Race {attempt}")
            substitution = services.name_substitute(
                self.private_member,
                committee=self.committee,
                substitute=self.private_staff,
                scope="ballot",
                ballot=ballot,
            )
            results = together(
                lambda b=ballot: services.cast_vote(self.private_staff, b, "no"),
                lambda s=substitution: services.withdraw_substitution(self.private_member, s),
            )
            votes = list(Vote.objects.filter(ballot=ballot, voter=self.private_member))
            self.assertLessEqual(len(votes), 1)
            withdrawn = Substitution.objects.get(pk=substitution.pk).status == SubstitutionStatus.WITHDRAWN
            # Either the substitute voted and the withdrawal was refused, or the reverse.
            self.assertNotEqual(bool(votes), withdrawn, results)

    def test_two_raw_inserts_for_one_seat_leave_one_row(self):
        ballot = self.motion()
        substitution = services.name_substitute(
            self.private_member, committee=self.committee, substitute=self.private_staff, scope="ballot", ballot=ballot
        )

        def insert(**extra):
            with transaction.atomic():
                return Vote.objects.create(
                    ballot=ballot, voter=self.private_member, sector="private", choice="yes", **extra
                )

        results = together(
            lambda: insert(),
            lambda: insert(cast_by=self.private_staff, substitution=substitution),
        )
        self.assertEqual(sum(isinstance(r, IntegrityError) for r in results), 1, results)
        self.assertEqual(Vote.objects.filter(ballot=ballot).count(), 1)
