"""The append-only audit log: each event commits to its content and becomes a leaf of the log's
Merkle tree (governance.transparency)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast

from governance.choices import BallotStatus
from governance.models.base import AppendOnlyModel, AppendOnlyQuerySet
from governance.roles import is_administrator


def _ids_as_text(queryset):
    """A subquery of the queryset's primary keys as text, to compare with `object_id`."""
    return queryset.order_by().annotate(text_id=Cast("pk", models.CharField())).values("text_id")


def _guarded_objects(user) -> dict:
    """For each kind of object whose events are not for every reader of the log, the objects
    of that kind this person may see."""
    from charters.models import Charter, CharterVersion, DataUseAgreement
    from compute.models import CreditRequest
    from governance.models.ballots import Ballot, Recusal, Vote, member_committee_ids

    charters = Charter.objects.visible_to(user)
    tallies_seen = Q(ballot__status=BallotStatus.CLOSED) | Q(ballot__committee_id__in=member_committee_ids(user))
    return {
        "charters.charter": charters,
        "charters.charterversion": CharterVersion.objects.visible_to(user),
        "charters.datauseagreement": DataUseAgreement.objects.visible_to(user),
        "compute.creditrequest": CreditRequest.objects.visible_to(user),
        "governance.ballot": Ballot.objects.visible_to(user),
        "governance.vote": Vote.objects.filter(tallies_seen),
        "governance.recusal": Recusal.objects.filter(tallies_seen),
    }


class AuditEventQuerySet(AppendOnlyQuerySet):
    def visible_to(self, user) -> AuditEventQuerySet:
        """The log for those who hold `view_auditevent` (auditors, co-chairs, secretaries,
        administrators), nothing for anyone else, and within it only what its objects' own
        read rules show them (DESIGN.md 2.6): no event about a charter, version, request or
        draft ballot whose page they could not open, and no vote on an open ballot unless
        they may see that ballot's tally. Administrators see every event."""
        if not (user and user.is_authenticated and user.has_perm("governance.view_auditevent")):
            return self.none()
        if is_administrator(user):
            return self
        hidden = Q()
        for label, visible in _guarded_objects(user).items():
            hidden |= Q(object_type=label) & ~Q(object_id__in=_ids_as_text(visible))
        return self.exclude(hidden)

    def receipts_for(self, user) -> AuditEventQuerySet:
        """The events whose receipts a person may fetch: those they may read, and their own acts
        (a member's vote), so that anyone can check that their act is in the record."""
        if not (user and user.is_authenticated):
            return self.none()
        return self.visible_to(user) | self.filter(actor=user)


class AuditEvent(AppendOnlyModel):
    """One state change that matters, committed to by SHA-256(salt || canonical JSON of `entry()`).

    The commitment is the event's leaf in the log's Merkle tree; `leaf_index` is set once, by the
    integrator, after the event's transaction has committed. The database refuses any other
    UPDATE and any DELETE on this table (triggers created by the migrations); the model refuses
    them as well.
    """

    created_at = models.DateTimeField(editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        help_text="Who did it; empty for the system (a scheduled task).",
    )
    actor_repr = models.CharField(max_length=200, editable=False)
    verb = models.CharField(max_length=64, editable=False)
    object_type = models.CharField(max_length=100, editable=False)
    object_id = models.CharField(max_length=64, editable=False)
    object_repr = models.CharField(max_length=300, editable=False)
    changes = models.JSONField(default=dict, editable=False)
    salt = models.BinaryField(max_length=32, editable=False)
    commitment = models.BinaryField(max_length=32, editable=False)
    leaf_index = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    append_only_message = "Audit events are append-only."

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["leaf_index"],
                name="auditevent_unique_leaf_index",
                violation_error_message="An event is one leaf of the log, and a leaf one event.",
            ),
        ]
        indexes = [models.Index(fields=["object_type", "object_id"], name="auditevent_object_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.actor_repr} {self.verb} {self.object_repr}"

    def entry(self) -> dict:
        """The object whose canonical JSON the commitment covers (DESIGN §3)."""
        return event_entry(self)


def event_entry(event) -> dict:
    """The committed object of an event, or of a historical model's row in a migration.

    Only values that read back unchanged from every database go in: the time in ISO 8601 UTC
    with microseconds, ids as they are stored, and the JSON of the changes.
    """
    created = event.created_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "created_at": created,
        "actor": event.actor_id,
        "actor_repr": event.actor_repr,
        "verb": event.verb,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "changes": event.changes,
    }
