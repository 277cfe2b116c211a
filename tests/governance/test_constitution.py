"""A committee is constituted only with equal voting seats per sector and one co-chair each."""

import datetime

from django.core.exceptions import ValidationError

from governance import services
from governance.choices import Role, Sector
from tests.base import PortalTestCase


class ConstitutionTests(PortalTestCase):
    def seat(self, username, organization, role=Role.MEMBER, **extra):
        user = services.create_user(
            self.admin, username=username, password="a-long-pass-phrase", organization=organization
        )
        return services.add_membership(
            self.admin,
            user=user,
            committee=self.committee,
            organization=organization,
            role=role,
            voting=role != Role.OBSERVER,
            term_start=self.term_start,
            **extra,
        )

    def test_a_committee_with_equal_seats_and_one_chair_per_sector_is_constituted(self):
        self.assertTrue(self.committee.constituted)
        self.assertEqual(self.committee.constitution_problems(), [])

    def test_an_extra_public_member_leaves_the_private_sector_short(self):
        self.seat("pat", self.orgs.council)
        self.assertFalse(self.committee.constituted)
        self.assertEqual(
            self.committee.constitution_problems(),
            ["The private sector is short of 1 voting seat: it holds 2, another sector holds 3."],
        )

    def test_observers_and_secretaries_do_not_count_as_voting_seats(self):
        self.seat("otto", self.orgs.council, role=Role.OBSERVER)
        self.assertTrue(self.committee.constituted)
        self.assertEqual(self.committee.seats_by_sector()[Sector.PUBLIC]["seats"], 2)

    def test_a_sector_without_a_co_chair_is_named(self):
        membership = self.private_chair.memberships.get()
        services.update_membership(self.admin, membership, role=Role.MEMBER)
        self.assertIn("The private sector has no co-chair.", self.committee.constitution_problems())

    def test_a_second_co_chair_in_one_sector_is_refused_as_unconstituted(self):
        self.seat("pia", self.orgs.council, role=Role.CHAIR)
        self.seat("pete", self.orgs.helios)
        self.assertEqual(
            self.committee.constitution_problems(),
            ["The public sector has 2 co-chairs; it must have exactly one."],
        )

    def test_a_term_that_has_ended_no_longer_holds_a_seat(self):
        membership = self.private_member.memberships.get()
        services.end_membership(self.admin, membership)
        self.assertIn(
            "The private sector is short of 1 voting seat: it holds 1, another sector holds 2.",
            self.committee.constitution_problems(),
        )

    def test_the_api_reports_constituted_and_what_is_missing(self):
        self.seat("pat", self.orgs.council)
        response = self.api(self.public_member).get(f"/api/committees/{self.committee.pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertIs(response.json()["constituted"], False)
        self.assertEqual(response.json()["seats"]["public"], {"seats": 3, "chairs": 1, "members": 4})
        self.assertIn("The private sector is short", response.json()["constitution_problems"][0])

    def test_an_observer_cannot_hold_a_voting_seat(self):
        with self.assertRaises(ValidationError):
            services.update_membership(self.admin, self.public_member.memberships.get(), role=Role.OBSERVER)

    def test_a_member_sits_for_their_own_organization(self):
        user = services.create_user(
            self.admin, username="nina", password="a-long-pass-phrase", organization=self.orgs.helios
        )
        with self.assertRaisesMessage(ValidationError, "sits for the organization they belong to"):
            services.add_membership(
                self.admin,
                user=user,
                committee=self.committee,
                organization=self.orgs.council,
                role=Role.MEMBER,
                term_start=self.term_start,
            )

    def test_overlapping_terms_on_one_committee_are_refused(self):
        with self.assertRaisesMessage(ValidationError, "already holds a term"):
            services.add_membership(
                self.admin,
                user=self.public_member,
                committee=self.committee,
                organization=self.orgs.council,
                role=Role.MEMBER,
                term_start=self.term_start + datetime.timedelta(days=3),
            )

    def test_an_organization_holding_seats_cannot_change_sector(self):
        with self.assertRaisesMessage(ValidationError, "its sector cannot change"):
            services.update_organization(self.admin, self.orgs.council, sector=Sector.PRIVATE)
