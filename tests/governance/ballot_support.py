"""Helpers shared by the ballot tests: a ballot-ready test case and a stand-in subject module.

The stand-in answers the subject contract of governance.subjects for the real Charter model,
the way charters.ballots will, so recusal of the parties' members can be checked before the
charters app ships its own module.
"""

from __future__ import annotations

import datetime
from unittest import mock

from django.test import override_settings
from django.utils import timezone

from charters.choices import IPFramework
from charters.models import Charter
from governance import services
from governance.choices import Role, SubjectType
from governance.models import Ballot, User
from tests.base import PASSWORD, PortalTestCase
from tests.support.ballots import close_by_both

STAND_IN = "tests.governance.stand_in_subject"


def use_stand_in_for_charters():
    """Route ballots on charters to the stand-in module for the duration of a test."""
    from governance.subjects import SUBJECT_MODULES

    return mock.patch.dict(SUBJECT_MODULES, {SubjectType.CHARTER: STAND_IN})


# Seating dozens of voters hashes as many passwords; the slow hasher proves nothing here.
FAST_HASHING = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


@FAST_HASHING
class BallotTestCase(PortalTestCase):
    """The body of tests.base, plus quick ways to make, open and vote on ballots."""

    def motion(self, title: str = "Adopt the meeting calendar", *, opened: bool = True, **fields) -> Ballot:
        ballot = services.create_ballot(
            self.public_chair, committee=self.committee, title=title, subject_type=SubjectType.MOTION, **fields
        )
        return services.open_ballot(self.public_chair, ballot) if opened else ballot

    def charter(self, lead, *participants) -> Charter:
        charter = Charter.objects.create(
            committee=self.committee,
            title="Shared speech corpus",
            summary="A speech corpus for public services.",
            lead_organization=lead,
            ip_framework=IPFramework.JOINT_POOL,
            created_by=self.staff,
        )
        charter.participating_organizations.set(participants)
        return charter

    def seat(self, username: str, organization, role: str = Role.MEMBER) -> User:
        """One more voting member (add them in pairs, one per sector, to stay constituted):
        seated by the administrator while the committee is being set up, and by both
        co-chairs' consent once it has acted (DESIGN.md 2.7)."""
        user = services.create_user(
            self.admin, username=username, password=PASSWORD, email=f"{username}@example.org", organization=organization
        )
        term_start = timezone.localdate() - datetime.timedelta(days=1)
        self.committee.refresh_from_db()
        if self.committee.bootstrapping:
            services.add_membership(
                self.admin,
                user=user,
                committee=self.committee,
                organization=organization,
                role=role,
                voting=True,
                term_start=term_start,
            )
        else:
            change = services.propose_membership_change(
                self.public_chair,
                committee=self.committee,
                kind="seat",
                user=user,
                organization=organization,
                role=role,
                voting=True,
                term_start=term_start,
            )
            services.consent_to_membership_change(self.private_chair, change)
        return user

    def close(self, ballot: Ballot) -> Ballot:
        """Close a ballot as the rules allow (DESIGN.md 2.7): a co-chair closes at once when
        everyone has voted, and otherwise both co-chairs ask."""
        return close_by_both(ballot, self.public_chair, self.private_chair)

    def votes(self, ballot: Ballot, **choices: str) -> None:
        """Cast votes by persona attribute name: self.votes(b, public_chair="yes", ...)."""
        for persona, choice in choices.items():
            services.cast_vote(getattr(self, persona), ballot, choice)
