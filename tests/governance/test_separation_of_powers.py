"""No sector and no person decides alone (DESIGN.md 2.7): seats, ballot floors, early close.

Each test is an attack a hostile member of one role tried on the demo body, written as the
principle it breaks, through the API and the pages, and each checks that nothing changed.
"""

from __future__ import annotations

import base64
import datetime
from decimal import Decimal

from django.test import Client, override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from charters.models import Charter
from governance import services
from governance.audit import record_event
from governance.choices import BallotStatus, MembershipChangeStatus, Role, SubjectType, VoteChoice, VotingMethod
from governance.exceptions import DomainError
from governance.models import ApiToken, AuditEvent, Ballot, Committee, Membership, MembershipChange
from governance.services import tokens
from tests.base import PASSWORD
from tests.governance.ballot_support import BallotTestCase
from tests.otp import totp

NEW_PASSWORD = "a-new-long-passphrase-2026"


def in_days(days: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


class ConstitutedBodyTestCase(BallotTestCase):
    """The body of tests.base once it has acted as constituted (its first ballot opened)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        services.mark_constituted(cls.admin, cls.committee)

    def seats(self) -> list[tuple[str, str, str]]:
        return sorted(
            Membership.objects.active()
            .filter(committee=self.committee)
            .values_list("user__username", "role", "term_end")
        )


class SeatsChangeOnlyByConsentTests(ConstitutedBodyTestCase):
    def propose(self, actor, **fields):
        return self.api(actor).post(
            "/api/membership-changes/", {"committee": self.committee.pk, **fields}, format="json"
        )

    def test_a_secretary_cannot_seat_the_other_sectors_co_chair(self):
        before = self.seats()
        response = self.api(self.secretary).post(
            "/api/memberships/",
            {
                "user": self.private_staff.pk,
                "committee": self.committee.pk,
                "organization": self.orgs.helios.pk,
                "role": Role.CHAIR,
                "voting": True,
                "term_start": str(timezone.localdate()),
            },
            format="json",
        )
        self.assertEqual(response.status_code, 409, response.content)
        self.assertIn("/api/membership-changes/", response.json()["detail"])
        self.assertEqual(self.seats(), before)

    def test_a_secretarys_proposal_needs_both_co_chairs(self):
        before = self.seats()
        response = self.propose(
            self.secretary,
            kind="seat",
            user=self.private_staff.pk,
            organization=self.orgs.helios.pk,
            role=Role.MEMBER,
        )
        self.assertEqual(response.status_code, 201, response.content)
        change = response.json()
        self.assertEqual(change["status"], "pending")
        self.assertEqual(change["sectors_needed"], ["private", "public"])

        answer = self.api(self.public_chair).post(f"/api/membership-changes/{change['id']}/consent/")
        self.assertEqual(answer.status_code, 200, answer.content)
        self.assertEqual(answer.json()["status"], "pending")
        self.assertEqual(self.seats(), before)

        answer = self.api(self.private_chair).post(f"/api/membership-changes/{change['id']}/consent/")
        self.assertEqual(answer.json()["status"], "applied")
        self.assertIn(("tara", Role.MEMBER, None), self.seats())
        verbs = list(
            AuditEvent.objects.filter(object_type="governance.membershipchange", object_id=str(change["id"]))
            .order_by("pk")
            .values_list("verb", flat=True)
        )
        self.assertEqual(
            verbs,
            [
                "membership_change.proposed",
                "membership_change.consented",
                "membership_change.consented",
                "membership_change.applied",
            ],
        )

    def test_a_secretary_cannot_end_the_private_co_chairs_term(self):
        seat = Membership.objects.get(user=self.private_chair, committee=self.committee)
        response = self.propose(self.secretary, kind="end_term", membership=seat.pk)
        self.assertEqual(response.status_code, 201, response.content)
        self.api(self.public_chair).post(f"/api/membership-changes/{response.json()['id']}/consent/")
        seat.refresh_from_db()
        self.assertIsNone(seat.term_end)
        self.assertTrue(services.co_chairs(self.committee))

    def test_one_co_chair_cannot_consent_to_her_own_proposal(self):
        before = self.seats()
        response = self.propose(
            self.public_chair, kind="seat", user=self.staff.pk, organization=self.orgs.council.pk, role=Role.MEMBER
        )
        self.assertEqual(response.json()["sectors_needed"], ["private"])
        answer = self.api(self.public_chair).post(f"/api/membership-changes/{response.json()['id']}/consent/")
        self.assertEqual(answer.status_code, 403, answer.content)
        self.assertEqual(self.seats(), before)

    def test_a_co_chairs_proposal_is_applied_by_the_other_sectors_co_chair(self):
        seat = Membership.objects.get(user=self.public_member, committee=self.committee)
        response = self.propose(self.public_chair, kind="end_term", membership=seat.pk)
        answer = self.api(self.private_chair).post(f"/api/membership-changes/{response.json()['id']}/consent/")
        self.assertEqual(answer.json()["status"], "applied", answer.content)
        seat.refresh_from_db()
        self.assertEqual(seat.term_end, timezone.localdate() - datetime.timedelta(days=1))

    def test_a_member_cannot_propose_seat_changes(self):
        response = self.propose(
            self.public_member, kind="seat", user=self.staff.pk, organization=self.orgs.council.pk, role=Role.MEMBER
        )
        self.assertEqual(response.status_code, 403, response.content)
        self.assertFalse(MembershipChange.objects.exists())

    def test_an_administrator_cannot_seat_members_once_the_committee_has_been_constituted(self):
        before = self.seats()
        response = self.api(self.admin).post(
            "/api/memberships/",
            {
                "user": self.staff.pk,
                "committee": self.committee.pk,
                "organization": self.orgs.council.pk,
                "role": Role.MEMBER,
                "voting": True,
                "term_start": str(timezone.localdate()),
            },
            format="json",
        )
        self.assertEqual(response.status_code, 409, response.content)
        self.assertEqual(self.seats(), before)

    def test_an_impossible_change_is_refused_when_proposed(self):
        response = self.propose(
            self.public_chair, kind="seat", user=self.staff.pk, organization=self.orgs.helios.pk, role=Role.MEMBER
        )
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn("organization", response.json()["detail"].lower())
        self.assertFalse(MembershipChange.objects.exists())

    def test_a_withdrawn_change_can_no_longer_be_consented_to(self):
        response = self.propose(
            self.public_chair, kind="seat", user=self.staff.pk, organization=self.orgs.council.pk, role=Role.MEMBER
        )
        change_id = response.json()["id"]
        self.assertEqual(
            self.api(self.public_chair).post(f"/api/membership-changes/{change_id}/withdraw/").status_code, 200
        )
        answer = self.api(self.private_chair).post(f"/api/membership-changes/{change_id}/consent/")
        self.assertEqual(answer.status_code, 409, answer.content)
        self.assertEqual(MembershipChange.objects.get().status, MembershipChangeStatus.WITHDRAWN)

    def test_the_committees_voting_rules_are_fixed_once_constituted(self):
        response = self.api(self.public_chair).patch(
            f"/api/committees/{self.committee.pk}/", {"quorum": "0.01"}, format="json"
        )
        self.assertEqual(response.status_code, 409, response.content)
        self.committee.refresh_from_db()
        self.assertEqual(self.committee.quorum, Decimal("0.5"))


class SeatChangesFromTheCommitteePageTests(ConstitutedBodyTestCase):
    def test_the_secretary_proposes_and_both_co_chairs_consent_on_the_committee_page(self):
        self.client.force_login(self.secretary)
        page = self.client.get(f"/committees/{self.committee.pk}/")
        self.assertContains(page, "Propose a change")
        response = self.client.post(
            f"/committees/{self.committee.pk}/seat-changes/",
            {"kind": "seat", "user": self.private_staff.pk, "role": Role.MEMBER, "reason": "Helios names Tara."},
            follow=True,
        )
        self.assertContains(response, "The change is proposed")
        change = MembershipChange.objects.get()  # the secretary prepares; she cannot consent
        self.assertNotContains(response, f'action="/seat-changes/{change.pk}/consent/"')
        before = self.seats()
        for chair in (self.public_chair, self.private_chair):
            self.client.force_login(chair)
            page = self.client.get(f"/committees/{self.committee.pk}/")
            self.assertContains(page, f'action="/seat-changes/{change.pk}/consent/"')
            self.client.post(f"/seat-changes/{change.pk}/consent/")
            if chair == self.public_chair:
                self.assertEqual(self.seats(), before)
        change.refresh_from_db()
        self.assertEqual(change.status, MembershipChangeStatus.APPLIED)
        self.assertIn(("tara", Role.MEMBER, None), self.seats())

    def test_a_member_is_offered_no_seat_changes(self):
        self.client.force_login(self.public_member)
        self.assertNotContains(self.client.get(f"/committees/{self.committee.pk}/"), "Propose a change")
        response = self.client.post(
            f"/committees/{self.committee.pk}/seat-changes/",
            {"kind": "seat", "user": self.staff.pk, "role": Role.MEMBER},
            follow=True,
        )
        self.assertContains(response, "co-chairs and secretary propose")
        self.assertFalse(MembershipChange.objects.exists())


class BallotsDecideOnlyTheirOwnCommitteesSubjectsTests(BallotTestCase):
    def test_a_ballot_cannot_decide_another_committees_subject(self):
        group = services.create_committee(self.admin, name="Working group")
        sop = services.create_sop(self.secretary, committee=self.committee, title="Data retention", body="Keep it.")
        version = sop.versions.get()
        response = self.api(self.admin).post(
            "/api/ballots/",
            {"committee": group.pk, "title": "Adopt", "subject_type": SubjectType.SOP, "subject_id": version.pk},
            format="json",
        )
        self.assertIn(response.status_code, (400, 403), response.content)
        self.assertFalse(Ballot.objects.filter(committee=group).exists())


class BallotFloorsTests(BallotTestCase):
    def test_a_ballot_cannot_use_a_weaker_method_than_its_committees_default(self):
        response = self.api(self.public_chair).post(
            "/api/ballots/",
            {
                "committee": self.committee.pk,
                "title": "Adopt the calendar",
                "subject_type": SubjectType.MOTION,
                "method": VotingMethod.PARITY_MAJORITY,
            },
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)  # the motion default itself
        Committee.objects.filter(pk=self.committee.pk).update(method_motion=VotingMethod.DOUBLE_MAJORITY)
        response = self.api(self.public_chair).post(
            "/api/ballots/",
            {
                "committee": self.committee.pk,
                "title": "Adopt the calendar again",
                "subject_type": SubjectType.MOTION,
                "method": VotingMethod.PARITY_MAJORITY,
            },
            format="json",
        )
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn("method", response.json()["errors"])

    def test_a_ballot_cannot_lower_the_committees_quorum(self):
        response = self.api(self.public_chair).post(
            "/api/ballots/",
            {"committee": self.committee.pk, "title": "Adopt", "subject_type": SubjectType.MOTION, "quorum": "0.01"},
            format="json",
        )
        self.assertEqual(response.status_code, 400, response.content)
        self.assertFalse(Ballot.objects.exists())

    def test_a_ballots_closing_time_leaves_the_minimum_voting_period(self):
        Committee.objects.filter(pk=self.committee.pk).update(min_voting_hours=24)  # the default
        response = self.api(self.public_chair).post(
            "/api/ballots/",
            {
                "committee": self.committee.pk,
                "title": "Adopt",
                "subject_type": SubjectType.MOTION,
                "closes_at": in_days(0.1).isoformat(),
            },
            format="json",
        )
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn("24 hours", str(response.json()))


class EarlyCloseNeedsBothSectorsTests(BallotTestCase):
    def test_one_co_chair_cannot_close_a_ballot_early(self):
        ballot = self.motion(closes_at=in_days(5))
        self.votes(ballot, public_chair=VoteChoice.YES, public_member=VoteChoice.YES)
        response = self.api(self.public_chair).post(f"/api/ballots/{ballot.pk}/close/")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], "open")
        self.assertEqual(response.json()["close_requested_by"], ["public"])
        self.assertIn("private sector's co-chair", response.json()["detail"])
        ballot.refresh_from_db()
        self.assertEqual(ballot.status, BallotStatus.OPEN)
        # Asking twice changes nothing either.
        self.api(self.public_chair).post(f"/api/ballots/{ballot.pk}/close/")
        self.assertEqual(Ballot.objects.get(pk=ballot.pk).status, BallotStatus.OPEN)

        response = self.api(self.private_chair).post(f"/api/ballots/{ballot.pk}/close/")
        self.assertEqual(response.json()["status"], "closed", response.content)

    def test_a_ballot_closes_at_once_when_every_eligible_member_has_voted(self):
        ballot = self.motion(closes_at=in_days(5))
        self.votes(
            ballot,
            public_chair=VoteChoice.YES,
            public_member=VoteChoice.YES,
            private_chair=VoteChoice.YES,
            private_member=VoteChoice.NO,
        )
        response = self.api(self.public_chair).post(f"/api/ballots/{ballot.pk}/close/")
        self.assertEqual(response.json()["status"], "closed", response.content)

    def test_one_co_chair_cannot_close_a_ballot_early_from_its_page(self):
        ballot = self.motion(closes_at=in_days(5))
        self.client.force_login(self.private_chair)
        response = self.client.post(f"/ballots/{ballot.pk}/close/", follow=True)
        self.assertContains(response, "request to close the ballot early is recorded")
        self.assertEqual(Ballot.objects.get(pk=ballot.pk).status, BallotStatus.OPEN)

    def test_an_administrator_cannot_close_a_ballot(self):
        ballot = self.motion(closes_at=in_days(5))
        response = self.api(self.admin).post(f"/api/ballots/{ballot.pk}/close/")
        self.assertEqual(response.status_code, 403, response.content)
        self.assertEqual(Ballot.objects.get(pk=ballot.pk).status, BallotStatus.OPEN)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class EveryWayInNeedsTheSecondFactorTests(BallotTestCase):
    def enrol(self, user) -> str:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        return base64.b32encode(device.bin_key).decode()

    def ask_token(self, user, **extra):
        return self.api().post("/api/auth/token/", {"username": user.username, "password": PASSWORD, **extra})

    def test_a_totp_user_gets_no_token_with_the_password_alone(self):
        self.enrol(self.public_chair)
        response = self.ask_token(self.public_chair)
        self.assertEqual(response.status_code, 400, response.content)
        self.assertEqual(response.json()["code"], "otp_required")
        self.assertFalse(ApiToken.objects.exists())
        self.assertEqual(self.ask_token(self.public_chair, otp="000000").status_code, 400)
        self.assertFalse(ApiToken.objects.exists())

    def test_a_totp_user_gets_a_token_with_the_code(self):
        secret = self.enrol(self.public_chair)
        response = self.ask_token(self.public_chair, otp=totp(secret))
        self.assertEqual(response.status_code, 200, response.content)
        self.assertIn("expires", response.json())
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        self.assertEqual(client.get("/api/ballots/").status_code, 200)

    def test_tokens_are_stored_hashed_and_expire(self):
        response = self.ask_token(self.public_member)
        key = response.json()["token"]
        token = ApiToken.objects.get()
        self.assertNotIn(key, (token.key_hash, token.prefix))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        self.assertEqual(client.get("/api/ballots/").status_code, 200)
        an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
        ApiToken.objects.filter(pk=token.pk).update(
            created_at=an_hour_ago - datetime.timedelta(hours=8), expires_at=an_hour_ago
        )
        self.assertEqual(client.get("/api/ballots/").status_code, 401)

    def test_a_token_is_revoked_with_delete(self):
        key = self.ask_token(self.public_member).json()["token"]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        self.assertEqual(client.delete("/api/auth/token/").status_code, 204)
        self.assertEqual(client.get("/api/ballots/").status_code, 401)
        self.assertTrue(AuditEvent.objects.filter(verb="token.revoked").exists())

    def test_signing_out_everywhere_ends_every_session_and_token(self):
        key = self.ask_token(self.public_member).json()["token"]
        other = Client()
        other.force_login(self.public_member)
        self.client.force_login(self.public_member)
        response = self.client.post("/account/sign-out-everywhere/")
        self.assertRedirects(response, "/login/", fetch_redirect_response=False)
        self.assertEqual(other.get("/ballots/").status_code, 302)  # the other session is signed out
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        self.assertEqual(client.get("/api/ballots/").status_code, 401)

    def test_a_person_issues_an_api_token_from_their_account_page(self):
        self.client.force_login(self.public_member)
        page = self.client.get("/account/")
        self.assertContains(page, "Change your password")
        self.assertEqual(self.client.get("/account/api-token/").status_code, 405)
        response = self.client.post("/account/api-token/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Cache-Control"], "no-store")
        key = response.context["new_token"]
        self.assertContains(response, key)
        token = ApiToken.objects.get(user=self.public_member)
        self.assertFalse(token.verified_two_factor)  # no second factor on this session
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        self.assertEqual(client.get("/api/ballots/").status_code, 200)
        self.assertNotContains(self.client.get("/account/"), key)  # shown once
        self.assertTrue(AuditEvent.objects.filter(verb="token.issued", object_id=str(token.pk)).exists())

    def test_a_person_changes_their_password_and_old_tokens_stop_working(self):
        key = self.ask_token(self.public_member).json()["token"]
        self.client.force_login(self.public_member)
        self.assertEqual(self.client.get("/account/password/").status_code, 200)
        response = self.client.post(
            "/account/password/",
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        self.assertEqual(response.status_code, 302, response.content)
        self.public_member.refresh_from_db()
        self.assertTrue(self.public_member.check_password(NEW_PASSWORD))
        self.assertEqual(self.client.get("/").status_code, 200)  # this session stays signed in
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        self.assertEqual(client.get("/api/ballots/").status_code, 401)
        self.assertTrue(AuditEvent.objects.filter(verb="user.password_changed").exists())


class AdministratorsLeaveATraceTests(BallotTestCase):
    def change_in_admin(self, person, **changes):
        self.client.force_login(self.admin)
        url = f"/admin/governance/user/{person.pk}/change/"
        form = self.client.get(url).context["adminform"].form
        data = {name: value for name, value in form.initial.items() if value is not None}
        data.update(
            {
                "groups": list(person.groups.values_list("pk", flat=True)),
                "user_permissions": [],
                "organization": person.organization_id or "",
                "date_joined_0": person.date_joined.strftime("%Y-%m-%d"),
                "date_joined_1": person.date_joined.strftime("%H:%M:%S"),
                "last_login_0": "",
                "last_login_1": "",
                **changes,
            }
        )
        data = {key: value for key, value in data.items() if value is not False}
        return self.client.post(url, data)

    def test_making_someone_a_superuser_in_the_admin_is_audited(self):
        response = self.change_in_admin(self.public_member, is_superuser="on")
        self.assertEqual(response.status_code, 302, response.context and response.context["adminform"].form.errors)
        event = AuditEvent.objects.filter(verb="user.updated", object_id=str(self.public_member.pk)).get()
        self.assertEqual(event.changes["after"], {"is_superuser": True})
        self.assertEqual(event.actor, self.admin)

    def test_moving_someone_to_another_organization_in_the_admin_is_audited(self):
        response = self.change_in_admin(self.private_staff, organization=self.orgs.council.pk)
        self.assertEqual(response.status_code, 302)
        event = AuditEvent.objects.filter(verb="user.updated", object_id=str(self.private_staff.pk)).get()
        self.assertEqual(event.changes["before"], {"organization": self.orgs.helios.pk})
        self.assertEqual(event.changes["after"], {"organization": self.orgs.council.pk})

    def test_the_admin_shows_no_token_or_device_secret(self):
        key, _ = tokens.issue_token(self.public_member)
        device = TOTPDevice.objects.create(user=self.public_chair, name="Authenticator app", confirmed=True)
        self.client.force_login(self.admin)
        for url in (
            "/admin/governance/apitoken/",
            "/admin/otp_totp/totpdevice/",
            f"/admin/otp_totp/totpdevice/{device.pk}/change/",
        ):
            page = self.client.get(url)
            self.assertEqual(page.status_code, 200, url)
            self.assertNotContains(page, key)
            self.assertNotContains(page, device.key)


class MeetingsHappenBeforeTheyAreHeldTests(BallotTestCase):
    def test_a_meeting_cannot_be_marked_held_before_it_takes_place(self):
        meeting = services.schedule_meeting(
            self.secretary, committee=self.committee, title="Ordinary meeting", starts_at=in_days(10)
        )
        self.client.force_login(self.secretary)
        page = self.client.post(f"/meetings/{meeting.pk}/status/", {"status": "held"}, follow=True)
        self.assertContains(page, "once it has begun")
        with self.assertRaisesMessage(DomainError, "once it has begun"):
            services.set_meeting_status(self.secretary, meeting, "held")
        meeting.refresh_from_db()
        self.assertEqual(meeting.status, "scheduled")


class AuditEventsFollowTheirObjectsReadRulesTests(BallotTestCase):
    def events(self, person, **filters) -> list[dict]:
        response = self.api(person).get("/api/audit-events/", filters)
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()["results"]

    def test_an_auditor_cannot_read_the_votes_of_an_open_ballot_until_it_closes(self):
        ballot = self.motion(closes_at=in_days(3))
        self.votes(ballot, public_chair="yes", private_member="no")
        self.assertEqual(self.events(self.auditor, object_type="governance.vote"), [])
        self.assertEqual(len(self.events(self.public_chair, object_type="governance.vote")), 2)
        self.close(ballot)
        self.assertEqual(len(self.events(self.auditor, object_type="governance.vote")), 2)

    def test_a_draft_charter_is_not_shown_in_the_log_to_whoever_may_not_open_it(self):
        charter = Charter.objects.create(
            committee=self.committee,
            title="Confidential draft",
            summary="Not yet shared.",
            lead_organization=self.orgs.council,
            ip_framework="joint_pool",
            created_by=self.staff,
        )
        record_event(self.staff, "charter.created", charter, after={"title": charter.title})
        self.assertFalse(Charter.objects.visible_to(self.auditor).filter(pk=charter.pk).exists())
        self.assertEqual(self.events(self.auditor, object_type="charters.charter", object_id=str(charter.pk)), [])
        self.assertEqual(len(self.events(self.admin, object_type="charters.charter", object_id=str(charter.pk))), 1)
