"""manage.py link_identity USERNAME PROVIDER SUBJECT: tie an existing account to its person's
identity at a configured provider (the provider id from OIDC_PROVIDERS, or `sso`), so their
first sign-in there reaches this account and its seats."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from governance.models import User
from identity.services.identities import link_identity


class Command(BaseCommand):
    help = "Tie an existing account to its person's identity at a configured identity provider."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("provider")
        parser.add_argument("subject", help="the person's `sub` claim at the provider")
        parser.add_argument("--as", dest="actor", required=True, help="the administrator doing it (audited)")

    def handle(self, *args, username, provider, subject, actor, **options):
        people = {user.username: user for user in User.objects.filter(username__in=[username, actor])}
        if username not in people or actor not in people:
            raise CommandError(f"No such people: {', '.join(sorted({username, actor} - set(people)))}.")
        try:
            link_identity(people[actor], people[username], provider_id=provider, subject=subject)
        except (ValidationError, PermissionDenied) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{username} now signs in as {subject} at {provider}.")
