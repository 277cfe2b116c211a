"""Datasets, and the data use agreements that share them: drafting, signing, renewal and expiry."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from charters import permissions
from charters.choices import CharterStatus
from charters.models import Dataset, DataUseAgreement, Signature
from charters.selectors import list_names
from charters.services.lifecycle import suspend
from governance.audit import record_event
from governance.exceptions import DomainError
from governance.models import Organization, User
from governance.permissions import require
from governance.roles import is_administrator

DATASET_FIELDS = ["name", "description", "steward", "jurisdiction", "classification"]


AGREEMENT_FIELDS = [
    "title",
    "purpose",
    "anonymization_standard",
    "anonymization_details",
    "insights_owner",
    "insights_terms",
    "audit_rights",
    "expires_on",
]


@transaction.atomic
def create_dataset(actor: User, **fields: Any) -> Dataset:
    """List a dataset in the catalogue; staff of its steward organization, or administrators."""
    require(
        permissions.may_catalogue(actor, fields.get("steward")),
        "Only staff of the steward organization list its datasets.",
    )
    dataset = Dataset(**{k: v for k, v in fields.items() if k in DATASET_FIELDS})
    dataset.full_clean()
    dataset.save()
    record_event(actor, "dataset.created", dataset, after={k: str(getattr(dataset, k)) for k in DATASET_FIELDS})
    return dataset


@transaction.atomic
def update_dataset(actor: User, dataset: Dataset, **fields: Any) -> Dataset:
    require(
        permissions.may_catalogue(actor, dataset.steward), "Only staff of the steward organization change its datasets."
    )
    before = {k: str(getattr(dataset, k)) for k in DATASET_FIELDS}
    for name, value in fields.items():
        if name in DATASET_FIELDS:
            setattr(dataset, name, value)
    dataset.full_clean()
    dataset.save()
    record_event(
        actor, "dataset.updated", dataset, before=before, after={k: str(getattr(dataset, k)) for k in DATASET_FIELDS}
    )
    return dataset


def _agreement_snapshot(agreement: DataUseAgreement) -> dict:
    data = {k: getattr(agreement, k) for k in AGREEMENT_FIELDS}
    data["parties"] = sorted(agreement.parties.values_list("pk", flat=True))
    data["datasets"] = sorted(agreement.datasets.values_list("pk", flat=True))
    return data


def _validate_agreement(agreement: DataUseAgreement, parties: list[Organization], datasets: list[Dataset]) -> None:
    errors: dict[str, str] = {}
    if not parties:
        errors["parties"] = "Name the organizations bound by the agreement."
    if not datasets:
        errors["datasets"] = "Name the datasets the agreement shares."
    party_ids = {p.pk for p in parties}
    stewards = [d for d in datasets if d.steward_id not in party_ids]
    if stewards and "parties" not in errors:
        errors["parties"] = (
            f"The steward of {list_names(stewards)} must be a party: the agreement shares its data. Add "
            + list_names({d.steward for d in stewards})
            + "."
        )
    if agreement.pk:
        for charter in agreement.charters.prefetch_related("participating_organizations").select_related(
            "lead_organization"
        ):
            missing = [
                o
                for o in [charter.lead_organization, *charter.participating_organizations.all()]
                if o.pk not in party_ids
            ]
            if missing:
                errors["parties"] = (
                    f"The charter '{charter}' names this agreement, so {list_names(missing)} must stay a party."
                )
                break
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_agreement(
    actor: User, *, parties: list[Organization], datasets: list[Dataset], **fields: Any
) -> DataUseAgreement:
    """Draft a data use agreement. It binds nobody until every party has signed it."""
    require(permissions.may_draft_agreement(actor), "Only staff of a member organization draft data use agreements.")
    parties, datasets = list(parties), list(datasets)
    if not is_administrator(actor) and actor.organization_id not in {p.pk for p in parties}:
        raise ValidationError({"parties": f"Your organization, {actor.organization}, must be a party."})
    agreement = DataUseAgreement(**{k: v for k, v in fields.items() if k in AGREEMENT_FIELDS}, created_by=actor)
    agreement.full_clean()
    if agreement.expires_on <= timezone.localdate():
        raise ValidationError({"expires_on": "The agreement must expire after today."})
    _validate_agreement(agreement, parties, datasets)
    agreement.save()
    agreement.parties.set(parties)
    agreement.datasets.set(datasets)
    record_event(actor, "dua.created", agreement, after=_agreement_snapshot(agreement))
    return agreement


@transaction.atomic
def update_agreement(actor: User, agreement: DataUseAgreement, **fields: Any) -> DataUseAgreement:
    """Change an agreement's terms while nobody has signed it; signed terms do not change."""
    require(
        permissions.may_change_agreement(actor, agreement),
        "Only its author and people of its parties change an agreement.",
    )
    agreement = DataUseAgreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.signatures.exists():
        raise DomainError("Signed agreements do not change. Renew it (its parties sign again) or draft a new one.")
    before = _agreement_snapshot(agreement)
    parties = list(fields.pop("parties", agreement.parties.all()))
    datasets = list(fields.pop("datasets", agreement.datasets.all()))
    for name, value in fields.items():
        if name in AGREEMENT_FIELDS:
            setattr(agreement, name, value)
    agreement.full_clean()
    _validate_agreement(agreement, parties, datasets)
    agreement.save()
    agreement.parties.set(parties)
    agreement.datasets.set(datasets)
    record_event(actor, "dua.updated", agreement, before=before, after=_agreement_snapshot(agreement))
    return agreement


@transaction.atomic
def sign_agreement(actor: User, agreement: DataUseAgreement) -> Signature:
    """Sign an agreement for the actor's organization, which must be one of its parties."""
    agreement = DataUseAgreement.objects.select_for_update().prefetch_related("parties").get(pk=agreement.pk)
    parties = {p.pk: p for p in agreement.parties.all()}
    require(
        permissions.may_sign_agreement(actor, agreement),
        "Only a signatory named by one of the agreement's parties signs it, for that organization.",
    )
    organization = parties[actor.organization_id]
    if agreement.is_expired():
        raise DomainError(f"The agreement expired on {agreement.expires_on:%Y-%m-%d}; renew it before signing.")
    existing = agreement.signatures.filter(organization=organization).select_related("signed_by").first()
    if existing is not None:
        raise DomainError(
            f"{existing.organization} already signed on {existing.signed_at:%Y-%m-%d}, by {existing.signed_by}."
        )
    signature = Signature.objects.create(agreement=agreement, organization=organization, signed_by=actor)
    record_event(actor, "dua.signed", agreement, after={"organization": actor.organization_id})
    return signature


@transaction.atomic
def renew_agreement(actor: User, agreement: DataUseAgreement, *, expires_on: datetime.date) -> DataUseAgreement:
    """Extend an agreement. Every party signs the renewal: earlier signatures are set aside."""
    require(
        permissions.may_change_agreement(actor, agreement),
        "Only its author and people of its parties renew an agreement.",
    )
    agreement = DataUseAgreement.objects.select_for_update().get(pk=agreement.pk)
    if expires_on is None or expires_on <= max(agreement.expires_on, timezone.localdate()):
        raise ValidationError(
            {"expires_on": "A renewal must expire later than the agreement does now, and after today."}
        )
    before = {
        "expires_on": agreement.expires_on,
        "signed_by": sorted(agreement.signatures.values_list("organization_id", flat=True)),
    }
    agreement.signatures.all().delete()
    agreement.expires_on = expires_on
    agreement.expired_flagged_at = None
    agreement.save(update_fields=["expires_on", "expired_flagged_at", "updated_at"])
    record_event(actor, "dua.renewed", agreement, before=before, after={"expires_on": expires_on, "signed_by": []})
    return agreement


def flag_expired_agreements(today: datetime.date | None = None) -> int:
    """Flag each agreement that has expired, once, and suspend the active charters that rely on
    it: their data may no longer be used. Safe to run twice (the flag is claimed atomically).
    Returns how many agreements were flagged."""
    today = today or timezone.localdate()
    flagged = 0
    due = DataUseAgreement.objects.filter(expires_on__lt=today, expired_flagged_at__isnull=True)
    for agreement_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            claimed = DataUseAgreement.objects.filter(pk=agreement_id, expired_flagged_at__isnull=True).update(
                expired_flagged_at=timezone.now()
            )
            if not claimed:
                continue
            agreement = DataUseAgreement.objects.get(pk=agreement_id)
            record_event(None, "dua.expired", agreement, after={"expires_on": agreement.expires_on})
            for charter in agreement.charters.filter(status=CharterStatus.ACTIVE):
                suspend(
                    None,
                    charter,
                    reason=f"The data use agreement '{agreement}' expired on {agreement.expires_on:%Y-%m-%d}: "
                    "data use is suspended until it is renewed and signed again.",
                )
            flagged += 1
    return flagged
