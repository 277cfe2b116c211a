"""Receipt links on the portal's pages: the event behind a vote, an outcome, an award or a
ledger posting, and whether a checkpoint both sectors cosigned covers it yet.

One query for the checkpoint's size and one for the events of everything a page shows, so a
page of 25 postings costs what a page of one does. The receipt itself is built (and the
cosignatures checked) only when someone downloads it (governance.transparency.receipts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.urls import reverse

from governance.models import AuditEvent, LogCheckpoint
from governance.transparency.keys import SECTORS


@dataclass(frozen=True)
class ReceiptLink:
    event_id: int
    leaf_index: int | None
    covered: bool

    @property
    def url(self) -> str:
        return reverse("api-auditevent-receipt", args=[self.event_id])

    @property
    def filename(self) -> str:
        return f"receipt-{self.leaf_index}.txt"


def cosigned_size() -> int:
    """The size of the newest checkpoint that carries a cosignature of every sector's witness."""
    newest = LogCheckpoint.objects.cosigned_by_every_sector(SECTORS).values_list("size", flat=True).first()
    return newest or 0


def receipts(user, objects: Iterable[models.Model], verbs: Iterable[str]) -> dict[object, ReceiptLink]:
    """The newest event with one of `verbs` about each object, by the object's pk, for the
    events whose receipts this person may fetch (their own acts, and what the log shows them)."""
    objects = [obj for obj in objects if obj is not None]
    if not objects:
        return {}
    label = objects[0]._meta.label_lower
    by_id = {str(obj.pk): obj.pk for obj in objects}
    events = (
        AuditEvent.objects.receipts_for(user)
        .filter(object_type=label, object_id__in=list(by_id), verb__in=list(verbs))
        .order_by("object_id", "-id")
        .values_list("id", "object_id", "leaf_index")
    )
    size = None
    found: dict[object, ReceiptLink] = {}
    for event_id, object_id, leaf_index in events:
        key = by_id[object_id]
        if key in found:
            continue
        if size is None:
            size = cosigned_size()
        found[key] = ReceiptLink(event_id, leaf_index, leaf_index is not None and leaf_index < size)
    return found


def receipt(user, obj: models.Model | None, *verbs: str) -> ReceiptLink | None:
    """The receipt link of one object's newest event with one of `verbs`, if this person may fetch it."""
    return receipts(user, [obj] if obj is not None else [], verbs).get(getattr(obj, "pk", None))
