"""A realistic demo body: organizations of both sectors, a constituted TGB, people in every role.

Each app adds its own demo data through a `seed_demo(context)` function in its `demo` module,
called here in order, so one command seeds the whole portal through the same services the
pages use.
"""

from __future__ import annotations

import datetime
import importlib

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from governance import services
from governance.choices import PortalRole, Role, Sector
from governance.models import Organization, User

DEMO_PASSWORD = "tgb-demo-2026"  # noqa: S105 - the demo password is printed on purpose

ORGANIZATIONS = [
    ("Ministry of Digital Affairs", "MDA", Sector.PUBLIC, "EU"),
    ("National Research Council", "NRC", Sector.PUBLIC, "EU"),
    ("Public Health Data Agency", "PHDA", Sector.PUBLIC, "EU"),
    ("Northwind AI", "Northwind", Sector.PRIVATE, "EU"),
    ("Helios Compute", "Helios", Sector.PRIVATE, "EU"),
    ("Aurora Labs", "Aurora", Sector.PRIVATE, "US"),
    # A member organization with no seat on the committee: its charter's ballot recuses nobody.
    ("Open Data Institute", "ODI", Sector.PUBLIC, "EU"),
]

# username, first, last, organization short name, committee role (or None), portal roles
PEOPLE = [
    ("ana.public", "Ana", "Ortiz", "MDA", Role.CHAIR, []),
    ("ben.private", "Ben", "Okafor", "Northwind", Role.CHAIR, []),
    ("carla.public", "Carla", "Meyer", "NRC", Role.MEMBER, []),
    ("dev.public", "Dev", "Raman", "PHDA", Role.MEMBER, []),
    ("erik.private", "Erik", "Lund", "Helios", Role.MEMBER, []),
    ("fatima.private", "Fatima", "Haddad", "Aurora", Role.MEMBER, []),
    ("grace.secretary", "Grace", "Kim", "MDA", Role.SECRETARY, []),
    ("oscar.observer", "Oscar", "Novak", "NRC", Role.OBSERVER, []),
    ("paula.pm", "Paula", "Santos", "NRC", None, [PortalRole.PROGRAM_MANAGER]),
    ("sam.staff", "Sam", "Ibrahim", "NRC", None, [PortalRole.STAFF]),
    ("tara.staff", "Tara", "Whitfield", "Helios", None, [PortalRole.STAFF]),
    ("uma.auditor", "Uma", "Becker", None, None, [PortalRole.AUDITOR]),
]

APP_SEEDERS = [
    "governance.demo",
    "charters.demo",
    "compute.demo.credits",
    "compute.demo.metrics",
    "roadmap.demo",
    "governance.public.demo",
]


class Command(BaseCommand):
    help = "Create a realistic demo body and print its logins. Safe to run twice with --if-empty."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database already holds organizations."
        )
        parser.add_argument("--logins", action="store_true", help="Only print the demo logins.")
        parser.add_argument("--no-logins", action="store_true", help="Do not print the demo logins.")

    def handle(self, *args, **options):
        if options["logins"]:
            self.print_logins()
            return
        if options["if_empty"] and Organization.objects.exists():
            self.stdout.write("Demo data already present; nothing to do.")
            if not options["no_logins"]:
                self.print_logins()
            return
        with transaction.atomic():
            context = self.seed_body()
            for module_name in APP_SEEDERS:
                try:
                    module = importlib.import_module(module_name)
                except ModuleNotFoundError:
                    continue
                module.seed_demo(context)
        self.stdout.write(self.style.SUCCESS("Demo body created."))
        if not options["no_logins"]:
            self.print_logins()

    def seed_body(self) -> dict:
        admin = User.objects.filter(username="admin").first() or User.objects.create_superuser(
            "admin", "admin@tgb.example", DEMO_PASSWORD, first_name="Portal", last_name="Administrator"
        )
        organizations = {
            short: services.create_organization(admin, name=name, short_name=short, sector=sector, jurisdiction=where)
            for name, short, sector, where in ORGANIZATIONS
        }
        tgb = services.create_committee(
            admin,
            name="Technical Governance Body",
            description="The joint committee that decides which projects run, who gets the shared GPU compute "
            "and what the joint R&D roadmap is. Public and private members sit in equal numbers.",
        )
        term_start = timezone.localdate() - datetime.timedelta(days=400)
        people = {}
        for username, first, last, org, role, portal_roles in PEOPLE:
            organization = organizations.get(org)
            user = services.create_user(
                admin,
                username=username,
                password=DEMO_PASSWORD,
                email=f"{username}@tgb.example",
                first_name=first,
                last_name=last,
                organization=organization,
            )
            for portal_role in portal_roles:
                services.grant_role(admin, user, portal_role)
            if role is not None:
                services.add_membership(
                    admin,
                    user=user,
                    committee=tgb,
                    organization=organization,
                    role=role,
                    voting=role in (Role.CHAIR, Role.MEMBER),
                    term_start=term_start,
                )
            people[username] = user
        return {"admin": admin, "organizations": organizations, "committee": tgb, "people": people}

    def print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write("  admin            portal administrator (also /admin/)")
        for username, first, last, org, role, portal_roles in PEOPLE:
            what = ", ".join(filter(None, [role and f"TGB {Role(role).label.lower()}", *portal_roles]))
            self.stdout.write(f"  {username:<16} {first} {last}, {org or 'independent'}: {what}")
