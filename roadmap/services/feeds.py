"""Each person's secret iCalendar feed of the roadmap's milestone dates."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from governance.audit import record_event
from governance.models import User
from governance.permissions import require
from roadmap import permissions
from roadmap.models import (
    CalendarFeed,
)


@transaction.atomic
def issue_calendar_feed(actor: User) -> str:
    """Issue (or replace) the person's secret feed token and return it; only its hash is kept,
    so the feed address can be shown this once."""
    require(permissions.may_read_roadmap(actor), "Only people of the body have a roadmap calendar.")
    token = secrets.token_urlsafe(32)
    feed, _ = CalendarFeed.objects.update_or_create(
        user=actor,
        defaults={"token_hash": CalendarFeed.hash_token(token), "created_at": timezone.now(), "last_used_at": None},
    )
    record_event(actor, "calendar_feed.issued", feed)
    return token


@transaction.atomic
def revoke_calendar_feed(actor: User) -> None:
    """Stop the person's feed: the old address answers 404 from now on."""
    feed = CalendarFeed.objects.filter(user=actor).first()
    if feed is not None:
        record_event(actor, "calendar_feed.revoked", feed)
        CalendarFeed.objects.filter(pk=feed.pk).delete()


def calendar_feed_user(token: str) -> User | None:
    """Whose feed a token opens: an active person still in the body, else nobody."""
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=CalendarFeed.hash_token(token)).first()
    if feed is None or not permissions.may_read_roadmap(feed.user):
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed.user
