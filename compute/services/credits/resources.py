"""Shared resources and their credit rates (DESIGN.md 2.3)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from compute import permissions
from compute.models import Resource, ResourceRate, UsageRecord
from compute.services.credits import posting
from governance.audit import record_event, snapshot
from governance.permissions import require

RESOURCE_FIELDS = ["name", "kind", "description", "capacity", "jurisdiction", "tee_capable", "status"]


@transaction.atomic
def create_resource(actor, *, rate: Decimal | None = None, rate_effective_from=None, **fields) -> Resource:
    """Register a shared resource, with its first credit rate when given; administrators only."""
    require(actor is None or permissions.may_manage_resources(actor), "Only administrators register resources.")
    resource = Resource(**{k: v for k, v in fields.items() if k in RESOURCE_FIELDS})
    resource.full_clean()
    resource.save()
    record_event(actor, "resource.created", resource, after=snapshot(resource, RESOURCE_FIELDS))
    if rate is not None:
        set_rate(actor, resource, rate=rate, effective_from=rate_effective_from)
    return resource


@transaction.atomic
def update_resource(actor, resource: Resource, **fields) -> Resource:
    """Change a resource's description, capacity, status…; its price changes with set_rate."""
    require(permissions.may_manage_resources(actor), "Only administrators change resources.")
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    before = snapshot(resource, RESOURCE_FIELDS)
    for name, value in fields.items():
        if name in RESOURCE_FIELDS:
            setattr(resource, name, value)
    resource.full_clean()
    resource.save()
    record_event(actor, "resource.updated", resource, before=before, after=snapshot(resource, RESOURCE_FIELDS))
    return resource


def current_rate(resource: Resource, at: datetime.datetime | None = None) -> ResourceRate | None:
    return ResourceRate.objects.in_effect_at(resource, at or timezone.now())


@transaction.atomic
def set_rate(actor, resource: Resource, *, rate, effective_from: datetime.datetime | None = None, note: str = ""):
    """Give a resource a new credit rate from `effective_from` (now by default).

    A new rate may not take effect at or before an hour already charged on the resource: that
    would leave charged usage priced by a rate that no longer says what it cost. Usage
    already charged keeps the rate it was charged at in any case (each record keeps it).
    """
    require(actor is None or permissions.may_manage_resources(actor), "Only administrators set credit rates.")
    effective_from = effective_from or timezone.now()
    if timezone.is_naive(effective_from):
        raise ValidationError({"effective_from": "Give the time with its time zone."})
    posting.lock_ledger()
    last_charged = UsageRecord.objects.filter(resource=resource).aggregate(last=Max("hour"))["last"]
    if last_charged is not None and effective_from <= last_charged:
        raise ValidationError(
            {
                "effective_from": f"Usage of {resource} is already charged up to {last_charged:%Y-%m-%d %H:00}; "
                "a new rate can take effect only after it."
            }
        )
    new = ResourceRate(
        resource=resource,
        rate=rate,
        effective_from=effective_from,
        note=note,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    new.full_clean()
    new.save()
    record_event(
        actor,
        "resource.rate_set",
        resource,
        after={"rate": new.rate, "effective_from": new.effective_from, "note": note},
    )
    return new
