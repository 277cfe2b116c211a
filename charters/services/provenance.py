"""The model provenance registry: models produced under a charter, with the data they were
trained on and the agreements that let them use it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from charters import permissions
from charters.choices import PRODUCING_STATUSES
from charters.models import Charter, DataUseAgreement, RegisteredModel, TrainingData
from charters.selectors import list_names
from charters.services.charters import lock_charter
from governance.audit import record_event
from governance.exceptions import DomainError
from governance.models import User
from governance.permissions import require

MODEL_FIELDS = [
    "name",
    "version",
    "digest",
    "parent",
    "trained_at",
    "credits_consumed",
    "gpu_hours",
    "bias_audit_summary",
    "bias_audit_results",
    "intended_use",
    "limitations",
    "evaluation",
]


# What may change on a registered model: its card. Its provenance is fixed at registration.
MODEL_CARD_FIELDS = ["bias_audit_summary", "bias_audit_results", "intended_use", "limitations", "evaluation"]


@transaction.atomic
def register_model(
    actor: User,
    *,
    charter: Charter,
    training_data: list[dict] | None = None,
    **fields: Any,
) -> RegisteredModel:
    """Register a model produced under a charter, with the data it was trained on. Each dataset
    must come through an agreement the charter names, signed by all its parties before the
    training and not expired then: a model trained on data without a signed agreement is refused.

    `training_data` is a list of {"dataset": Dataset, "agreement": DataUseAgreement}.
    """
    require(
        permissions.may_register_model(actor, charter),
        "Only people of the charter's organizations register its models.",
    )
    charter = lock_charter(charter)
    if charter.status not in PRODUCING_STATUSES:
        raise DomainError(
            f"Models are registered under an active or completed charter; this one is '{charter.status}'."
        )
    model = RegisteredModel(
        **{k: v for k, v in fields.items() if k in MODEL_FIELDS}, charter=charter, registered_by=actor
    )
    model.full_clean()
    if model.parent is not None and not RegisteredModel.objects.visible_to(actor).filter(pk=model.parent.pk).exists():
        raise ValidationError({"parent": "Unknown parent model."})
    named = set(charter.data_use_agreements.values_list("pk", flat=True))
    items = list(training_data or [])
    seen: set[int] = set()
    for item in items:
        dataset, agreement = item["dataset"], item["agreement"]
        if dataset.pk in seen:
            raise ValidationError({"training_data": f"The dataset {dataset} is listed twice."})
        seen.add(dataset.pk)
        if agreement.pk not in named:
            raise ValidationError({"training_data": f"The charter does not name the data use agreement '{agreement}'."})
        if not agreement.datasets.filter(pk=dataset.pk).exists():
            raise ValidationError(
                {"training_data": f"The agreement '{agreement}' does not cover the dataset {dataset}."}
            )
        agreement = DataUseAgreement.objects.with_signatures().get(pk=agreement.pk)
        unsigned = agreement.unsigned_parties()
        if unsigned:
            raise DomainError(
                f"The model was trained on {dataset}, but the data use agreement '{agreement}' is not signed by "
                f"{list_names(unsigned)}: a model trained on data without a signed agreement cannot be registered."
            )
        last_signed = max(s.signed_at for s in agreement.signatures.all())
        if last_signed > model.trained_at:
            raise DomainError(
                f"The model was trained on {model.trained_at:%Y-%m-%d} but the data use agreement '{agreement}' was "
                f"only fully signed on {last_signed:%Y-%m-%d}: its data was used before the agreement bound "
                "its parties."
            )
        if agreement.expires_on < timezone.localtime(model.trained_at).date():
            raise DomainError(
                f"The model was trained on {model.trained_at:%Y-%m-%d}, after the data use agreement '{agreement}' "
                f"expired on {agreement.expires_on:%Y-%m-%d}."
            )
    model.save()
    TrainingData.objects.bulk_create(
        TrainingData(model=model, dataset=item["dataset"], agreement=item["agreement"]) for item in items
    )
    record_event(
        actor,
        "model.registered",
        model,
        after={
            "charter": charter.pk,
            "version": model.version,
            "digest": model.digest,
            "parent": model.parent_id,
            "datasets": sorted(seen),
            "credits_consumed": model.credits_consumed,
            "gpu_hours": model.gpu_hours,
        },
    )
    return model


@transaction.atomic
def update_model_card(actor: User, model: RegisteredModel, **fields: Any) -> RegisteredModel:
    """Update a model's card (intended use, limitations, evaluation, bias-audit results). Its
    provenance — digest, data, parent, compute — is fixed at registration."""
    require(
        permissions.may_change_model(actor, model),
        "Only people of the charter's organizations update its models.",
    )
    fixed = sorted(set(fields) - set(MODEL_CARD_FIELDS))
    if fixed:
        raise ValidationError({fixed[0]: "A model's provenance is fixed at registration; register a new version."})
    before = {k: getattr(model, k) for k in MODEL_CARD_FIELDS}
    for name, value in fields.items():
        setattr(model, name, value)
    model.full_clean()
    model.save()
    record_event(actor, "model.updated", model, before=before, after={k: getattr(model, k) for k in MODEL_CARD_FIELDS})
    return model
