"""Drafting and editing charters, and the rules the other charter services share: the lock
on a charter, its parties and the agreements that must bind them all, the version before the
committee and the ballot that alone decides it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from charters import permissions
from charters.choices import EDITABLE_STATUSES, CharterStatus
from charters.models import Charter, CharterVersion, DataUseAgreement
from charters.selectors import list_names
from charters.versions import RELATED_FIELDS, SCALAR_FIELDS, snapshot
from governance.audit import record_event
from governance.choices import SubjectType
from governance.exceptions import DomainError
from governance.models import Committee, Organization, User
from governance.permissions import require
from governance.roles import is_administrator
from governance.subjects import refuse_while_on_ballot

# Fields a person may set when drafting or editing a charter (the rest the services set).
CHARTER_INPUT_FIELDS = [*SCALAR_FIELDS, "committee", "lead_organization"]


def validate_parties(
    lead: Organization,
    participating: list[Organization],
    agreements: list[DataUseAgreement],
) -> None:
    """The rules that tie a charter's parties to the agreements it names."""
    errors: dict[str, str] = {}
    if any(o.pk == lead.pk for o in participating):
        errors["participating_organizations"] = (
            f"{lead} leads the charter; list only the other organizations taking part."
        )
    for agreement in agreements:
        missing = [o for o in [lead, *participating] if o.pk not in {p.pk for p in agreement.parties.all()}]
        if missing:
            errors["data_use_agreements"] = (
                f"The data use agreement '{agreement}' does not bind {list_names(missing)}: every party to the charter "
                "must be party to the data use agreements it names."
            )
            break
    if errors:
        raise ValidationError(errors)


def set_related(charter: Charter, related: dict[str, list]) -> None:
    """Set the charter's many-to-many fields that the input names."""
    for name, objects in related.items():
        getattr(charter, name).set(objects)


def split_input(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list]]:
    """A person's input as (the charter's own fields, its many-to-many fields)."""
    scalars = {k: v for k, v in fields.items() if k in CHARTER_INPUT_FIELDS}
    related = {k: list(v) for k, v in fields.items() if k in RELATED_FIELDS and v is not None}
    return scalars, related


@transaction.atomic
def create_charter(actor: User, **fields: Any) -> Charter:
    """Draft a charter for the actor's own organization (administrators may name any lead)."""
    require(permissions.may_draft(actor), "Only staff of a member organization draft charters.")
    scalars, related = split_input(fields)
    lead = scalars.get("lead_organization") or actor.organization
    if not is_administrator(actor) and (lead is None or lead.pk != actor.organization_id):
        raise ValidationError(
            {"lead_organization": f"You draft charters for your own organization, {actor.organization}."}
        )
    if scalars.get("committee") is None:
        committees = list(Committee.objects.all()[:2])
        if len(committees) != 1:
            raise ValidationError({"committee": "Say which committee decides on this charter."})
        scalars["committee"] = committees[0]
    scalars["lead_organization"] = lead
    charter = Charter(**scalars, created_by=actor, status=CharterStatus.DRAFT)
    charter.full_clean()
    validate_parties(
        charter.lead_organization,
        related.get("participating_organizations", []),
        related.get("data_use_agreements", []),
    )
    charter.save()
    set_related(charter, related)
    record_event(actor, "charter.created", charter, after=snapshot(charter))
    return charter


def lock_charter(charter: Charter) -> Charter:
    """The charter again, its row locked until the transaction ends."""
    return (
        Charter.objects.select_for_update(of=("self",))
        .select_related("lead_organization", "committee")
        .get(pk=charter.pk)
    )


@transaction.atomic
def update_charter(actor: User, charter: Charter, **fields: Any) -> Charter:
    """Edit a draft, or a charter sent back for revision. An approved charter changes only by
    amendment (propose_amendment); the lead organization and committee are fixed."""
    require(
        permissions.may_edit(actor, charter), "Only the author and people of the lead organization edit this charter."
    )
    charter = lock_charter(charter)
    if charter.status not in EDITABLE_STATUSES:
        raise DomainError(
            f"A charter that is '{charter.status}' cannot be edited: only drafts and charters sent back for "
            "revision can. An approved charter changes by amendment."
        )
    scalars, related = split_input(fields)
    for fixed in ("lead_organization", "committee"):
        if fixed in scalars and scalars.pop(fixed) != getattr(charter, fixed):
            raise ValidationError({fixed: f"The {fixed.replace('_', ' ')} of a charter cannot change."})
    before = snapshot(charter)
    for name, value in scalars.items():
        setattr(charter, name, value)
    charter.full_clean()
    participating = related.get("participating_organizations", list(charter.participating_organizations.all()))
    agreements = related.get("data_use_agreements", list(charter.data_use_agreements.all()))
    validate_parties(charter.lead_organization, participating, agreements)
    charter.save()
    set_related(charter, related)
    record_event(actor, "charter.updated", charter, before=before, after=snapshot(charter))
    return charter


def decide_version(version: CharterVersion, status: str) -> None:
    """Close the version before the committee with this decision (approved, rejected…)."""
    version.status = status
    version.decided_at = timezone.now()
    version.save(update_fields=["status", "decided_at"])


def require_ballot_outcome(ballot, charter: Charter, outcome: str, what: str) -> None:
    """Approval and rejection belong to the committee: only a ballot on this charter with the
    matching outcome may apply them."""
    if (
        ballot is None
        or getattr(ballot, "subject_type", None) != SubjectType.CHARTER
        or str(getattr(ballot, "subject_id", "")) != str(charter.pk)
        or getattr(ballot, "outcome", None) != outcome
    ):
        raise PermissionDenied(f"A charter is {what} only by the outcome of a ballot on it.")
    if getattr(ballot, "committee_id", charter.committee_id) != charter.committee_id:
        raise PermissionDenied(f"Only a ballot of {charter.committee} decides on this charter.")


def refuse_while_ballot_open(charter: Charter) -> None:
    """What a ballot is deciding must not move under it: refuse while one on the charter is open."""
    refuse_while_on_ballot(charter, "charter")
