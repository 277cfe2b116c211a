"""Secret calendar feeds (the roadmap's milestones, a person's meetings): one address a person
subscribes to, of which only the token's hash is kept. The apps' services name the acts; this
is how each is done, once for every kind of feed."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.utils import timezone

from governance.audit import record_event
from governance.models import User


def issue(model, actor: User, verb: str) -> str:
    """Issue (or replace) the person's feed of `model` and return its token, shown this once."""
    token = secrets.token_urlsafe(32)
    feed, _ = model.objects.update_or_create(
        user=actor,
        defaults={"token_hash": model.hash_token(token), "created_at": timezone.now(), "last_used_at": None},
    )
    record_event(actor, f"{verb}.issued", feed)
    return token


def revoke(model, actor: User, verb: str) -> None:
    """Stop the person's feed: its address answers 404 from now on."""
    feed = model.objects.filter(user=actor).first()
    if feed is not None:
        record_event(actor, f"{verb}.revoked", feed)
        model.objects.filter(pk=feed.pk).delete()


def user_of(model, token: str, may_read: Callable[[User], bool]) -> User | None:
    """Whose feed a token opens, if they may still read it; else nobody."""
    feed = model.objects.select_related("user").filter(token_hash=model.hash_token(token)).first()
    if feed is None or not may_read(feed.user):
        return None
    model.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed.user
