"""manage.py deprovision USERNAME…: end every session and revoke every API token of people
who left their organization, before their provider is next asked."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from governance.models import User
from identity.services.identities import deprovision


class Command(BaseCommand):
    help = "End every session and revoke every API token of the named people."

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="+")
        parser.add_argument("--reason", default="Deprovisioned from the command line.")

    def handle(self, *args, usernames, reason, **options):
        found = {user.username: user for user in User.objects.filter(username__in=usernames)}
        unknown = sorted(set(usernames) - set(found))
        if unknown:
            raise CommandError(f"No such people: {', '.join(unknown)}.")
        for username in usernames:
            revoked = deprovision(None, found[username], reason=reason)
            self.stdout.write(f"{username}: sessions ended, {revoked} API tokens revoked.")
