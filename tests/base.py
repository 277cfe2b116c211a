"""The named people of the test suite, and the shared test case they live in.

Every test reads as a sentence about these people: the public co-chair Ana, the private
co-chair Ben, the members Carla (public) and Erik (private), the secretary Grace, the staff
researchers Sam (public sector) and Tara (private sector), the auditor Uma, and Olga, an
outsider who belongs to no organization and holds no role.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from governance import services
from governance.choices import PortalRole, Role, Sector
from governance.models import User

PASSWORD = "correct-horse-battery-staple"


def make_body() -> SimpleNamespace:
    """A constituted committee with two voting seats per sector, and the people around it."""
    admin = User.objects.create_superuser("admin", "admin@example.org", PASSWORD)
    orgs = SimpleNamespace(
        ministry=services.create_organization(admin, name="Ministry of Digital Affairs", sector=Sector.PUBLIC),
        council=services.create_organization(admin, name="National Research Council", sector=Sector.PUBLIC),
        northwind=services.create_organization(admin, name="Northwind AI", sector=Sector.PRIVATE),
        helios=services.create_organization(admin, name="Helios Compute", sector=Sector.PRIVATE),
    )
    # One hour of minimum voting time (the default is a day) lets tests open ballots that close
    # within hours; the default itself is tested in test_separation_of_powers.
    committee = services.create_committee(admin, name="Technical Governance Body", min_voting_hours=1)
    term_start = timezone.localdate() - datetime.timedelta(days=30)

    def person(username, organization=None, role=None, portal_roles=()):
        user = services.create_user(
            admin,
            username=username,
            password=PASSWORD,
            email=f"{username}@example.org",
            first_name=username.capitalize(),
            organization=organization,
        )
        for portal_role in portal_roles:
            services.grant_role(admin, user, portal_role)
        if role:
            services.add_membership(
                admin,
                user=user,
                committee=committee,
                organization=organization,
                role=role,
                voting=role in (Role.CHAIR, Role.MEMBER),
                term_start=term_start,
            )
        return user

    body = SimpleNamespace(
        admin=admin,
        orgs=orgs,
        committee=committee,
        term_start=term_start,
        public_chair=person("ana", orgs.ministry, Role.CHAIR),
        private_chair=person("ben", orgs.northwind, Role.CHAIR),
        public_member=person("carla", orgs.council, Role.MEMBER),
        private_member=person("erik", orgs.helios, Role.MEMBER),
        secretary=person("grace", orgs.ministry, Role.SECRETARY),
        staff=person("sam", orgs.council, portal_roles=[PortalRole.STAFF]),
        private_staff=person("tara", orgs.helios, portal_roles=[PortalRole.STAFF]),
        program_manager=person("paula", orgs.council, portal_roles=[PortalRole.PROGRAM_MANAGER]),
        auditor=person("uma", portal_roles=[PortalRole.AUDITOR]),
        outsider=person("olga"),
    )
    # Who signs data use agreements for the council and Helios (DESIGN.md 2.7).
    services.set_signatories(admin, orgs.council, [body.staff, body.public_member])
    services.set_signatories(admin, orgs.helios, [body.private_staff, body.private_member])
    return body


class PortalTestCase(TestCase):
    """A test case with the body and its people in place (created once per class)."""

    @classmethod
    def setUpTestData(cls):
        cls.body = make_body()
        for name, value in vars(cls.body).items():
            setattr(cls, name, value)

    def api(self, user: User | None = None) -> APIClient:
        """An API client signed in as `user` (anonymous when None)."""
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client
