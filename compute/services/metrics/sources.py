"""Metric sources: registering, changing, and the push tokens of push sources."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from compute import permissions
from compute.choices import MetricSourceKind
from compute.models import MetricSource
from compute.models.metrics import hash_token
from governance.audit import record_event, snapshot
from governance.permissions import require

SOURCE_FIELDS = [
    "name",
    "kind",
    "resource",
    "enabled",
    "url",
    "queries",
    "selector",
    "rate_window",
    "charter_label",
    "charter_map",
    "step_seconds",
]


def _new_token() -> str:
    return f"tgbm_{secrets.token_urlsafe(32)}"


@transaction.atomic
def create_source(actor, **fields: Any) -> MetricSource:
    """Register a metric source. A push source gets its token here, shown once (`plain_token`)."""
    require(permissions.may_manage_metric_sources(actor), "Only portal administrators manage metric sources.")
    bearer_token = fields.pop("bearer_token", "")
    source = MetricSource(**{k: v for k, v in fields.items() if k in SOURCE_FIELDS}, bearer_token=bearer_token or "")
    token = _new_token() if source.kind == MetricSourceKind.PUSH else ""
    source.token_hash = hash_token(token) if token else ""
    source.full_clean()
    source.save()
    source.plain_token = token
    record_event(actor, "metric_source.created", source, after=snapshot(source, SOURCE_FIELDS))
    return source


@transaction.atomic
def update_source(actor, source: MetricSource, **fields: Any) -> MetricSource:
    """Change a source's settings; the kind is fixed once created (its token and state depend on it)."""
    require(permissions.may_manage_metric_sources(actor), "Only portal administrators manage metric sources.")
    if "kind" in fields and fields["kind"] != source.kind:
        raise ValidationError({"kind": "A source's kind cannot change; create a new source instead."})
    before = snapshot(source, SOURCE_FIELDS)
    if "bearer_token" in fields:
        source.bearer_token = fields.pop("bearer_token") or ""
    for name, value in fields.items():
        if name in SOURCE_FIELDS:
            setattr(source, name, value)
    source.full_clean()
    source.save()
    record_event(actor, "metric_source.updated", source, before=before, after=snapshot(source, SOURCE_FIELDS))
    return source


@transaction.atomic
def rotate_token(actor, source: MetricSource) -> str:
    """Give a push source a new token; the old one stops working at once."""
    require(permissions.may_manage_metric_sources(actor), "Only portal administrators manage metric sources.")
    if source.kind != MetricSourceKind.PUSH:
        raise ValidationError("Only a push source has a token.")
    token = _new_token()
    source.token_hash = hash_token(token)
    source.save(update_fields=["token_hash", "updated_at"])
    record_event(actor, "metric_source.token_rotated", source)
    return token


def source_for_token(token: str) -> MetricSource | None:
    if not token:
        return None
    return MetricSource.objects.select_related("resource").filter(token_hash=hash_token(token)).first()
