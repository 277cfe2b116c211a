"""Amendments: a new version of an approved charter, in force only once its own ballot passes."""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from charters import permissions
from charters.choices import AMENDABLE_STATUSES, EDITABLE_STATUSES, VersionStatus
from charters.models import Charter, CharterVersion, DataUseAgreement
from charters.selectors import data_contract_problems, pending_version
from charters.services.charters import (
    decide_version,
    lock_charter,
    refuse_while_ballot_open,
    require_ballot_outcome,
    split_input,
    validate_parties,
)
from charters.versions import RELATED_FIELDS, SCALAR_FIELDS, related_ids, snapshot
from compute.models import Resource
from governance.audit import record_event
from governance.choices import Outcome
from governance.exceptions import DomainError
from governance.models import Organization, User
from governance.permissions import require


@transaction.atomic
def propose_amendment(actor: User, charter: Charter, *, change_note: str, **changes: Any) -> CharterVersion:
    """Propose a new version of an approved charter. The version in force stays in force until
    a ballot on the amendment passes; the amendment needs its own technical reviews and ballot."""
    require(
        permissions.may_edit(actor, charter), "Only the author and people of the lead organization amend this charter."
    )
    charter = lock_charter(charter)
    if charter.status not in AMENDABLE_STATUSES:
        raise DomainError(
            f"Only an approved, active or suspended charter is amended; this one is '{charter.status}'."
            + (" Edit the draft instead." if charter.status in EDITABLE_STATUSES else "")
        )
    pending = pending_version(charter)
    if pending is not None:
        raise DomainError(f"Version {pending.number} is already before the committee; withdraw it first.")
    change_note = (change_note or "").strip()
    if not change_note:
        raise ValidationError({"change_note": "Say what the amendment changes and why."})
    scalars, related = split_input(changes)
    for fixed in ("lead_organization", "committee"):
        if fixed in scalars and scalars.pop(fixed) != getattr(charter, fixed):
            raise ValidationError({fixed: f"An amendment cannot change the {fixed.replace('_', ' ')}."})
    proposed = copy.copy(charter)
    for name, value in scalars.items():
        setattr(proposed, name, value)
    proposed.full_clean()
    related = {name: related.get(name, list(getattr(charter, name).all())) for name in RELATED_FIELDS}
    validate_parties(charter.lead_organization, related["participating_organizations"], related["data_use_agreements"])
    content = snapshot(proposed, related)
    if content == snapshot(charter):
        raise ValidationError({"change_note": "The amendment changes nothing in the charter."})
    number = (charter.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = CharterVersion.objects.create(
        charter=charter, number=number, is_amendment=True, content=content, change_note=change_note, proposed_by=actor
    )
    record_event(actor, "charter.amendment_proposed", charter, after={"version": number, "change_note": change_note})
    return version


@transaction.atomic
def withdraw_amendment(actor: User, charter: Charter) -> CharterVersion:
    """Take a proposed amendment back before the committee decides on it."""
    require(
        permissions.may_edit(actor, charter),
        "Only the author and people of the lead organization withdraw an amendment.",
    )
    charter = lock_charter(charter)
    version = pending_version(charter)
    if version is None or not version.is_amendment:
        raise DomainError("No amendment of this charter is before the committee.")
    refuse_while_ballot_open(charter)
    decide_version(version, VersionStatus.WITHDRAWN)
    record_event(actor, "charter.amendment_withdrawn", charter, after={"version": version.number})
    return version


def _apply_content(charter: Charter, content: dict) -> None:
    for name in SCALAR_FIELDS:
        setattr(charter, name, content[name])
    charter.full_clean()
    charter.save()
    charter.participating_organizations.set(
        Organization.objects.filter(pk__in=related_ids(content, "participating_organizations"))
    )
    charter.data_use_agreements.set(DataUseAgreement.objects.filter(pk__in=related_ids(content, "data_use_agreements")))
    charter.resources.set(Resource.objects.filter(pk__in=related_ids(content, "resources")))


@transaction.atomic
def approve_amendment(actor, charter: Charter, *, ballot) -> CharterVersion:
    """Apply a passed ballot on an amendment: its text becomes the version in force."""
    require_ballot_outcome(ballot, charter, Outcome.PASSED, "amended")
    charter = lock_charter(charter)
    version = pending_version(charter)
    if version is None or not version.is_amendment:
        raise DomainError("No amendment of this charter is before the committee.")
    problems = data_contract_problems(charter, version.content)
    if problems:
        raise DomainError("The amendment cannot be approved: " + " ".join(problems))
    before = snapshot(charter)
    _apply_content(charter, version.content)
    decide_version(version, VersionStatus.APPROVED)
    charter.version = version.number
    charter.save(update_fields=["version", "updated_at"])
    record_event(
        actor,
        "charter.amendment_approved",
        charter,
        before=before,
        after={**snapshot(charter), "version": version.number},
    )
    return version


@transaction.atomic
def reject_amendment(actor, charter: Charter, *, ballot) -> CharterVersion:
    """Apply a rejected ballot on an amendment: the version in force stays."""
    require_ballot_outcome(ballot, charter, Outcome.REJECTED, "refused an amendment")
    charter = lock_charter(charter)
    version = pending_version(charter)
    if version is None or not version.is_amendment:
        raise DomainError("No amendment of this charter is before the committee.")
    decide_version(version, VersionStatus.REJECTED)
    record_event(actor, "charter.amendment_rejected", charter, after={"version": version.number, "ballot": ballot.pk})
    return version
