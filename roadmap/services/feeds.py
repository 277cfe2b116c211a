"""Each person's secret iCalendar feed of the roadmap's milestone dates."""

from __future__ import annotations

from django.db import transaction

from governance import feeds
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
    return feeds.issue(CalendarFeed, actor, "calendar_feed")


@transaction.atomic
def revoke_calendar_feed(actor: User) -> None:
    """Stop the person's feed: the old address answers 404 from now on."""
    feeds.revoke(CalendarFeed, actor, "calendar_feed")


def calendar_feed_user(token: str) -> User | None:
    """Whose feed a token opens: an active person still in the body, else nobody."""
    return feeds.user_of(CalendarFeed, token, permissions.may_read_roadmap)
