"""The write path of the charters app: charters and their lifecycle, data use agreements and
signatures, technical reviews, amendments and the model provenance registry.

Each function checks who may act, validates, writes and appends the audit event in one
transaction. Views, the API, the admin, the ballot hooks (charters.ballots) and tasks call these.
Each lifecycle step of CHARTER_TRANSITIONS (charters.choices) is one function of the same name.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from charters.choices import (
    AMENDABLE_STATUSES,
    CHARTER_TRANSITIONS,
    EDITABLE_STATUSES,
    PRODUCING_STATUSES,
    REVIEW_CHECKLISTS,
    CharterStatus,
    DataClassification,
    ReviewKind,
    ReviewVerdict,
    VersionStatus,
    legal_targets,
)
from charters.models import (
    Charter,
    CharterVersion,
    Dataset,
    DataUseAgreement,
    RegisteredModel,
    Signature,
    TechnicalReview,
    TrainingData,
    within,
)
from charters.versions import RELATED_FIELDS, SCALAR_FIELDS, related_ids, snapshot
from compute.models import Resource
from governance.audit import record_event
from governance.choices import Role
from governance.exceptions import DomainError, IllegalTransition
from governance.models import Ballot, Committee, Membership, Organization, User
from governance.outbox import enqueue
from governance.permissions import can_manage_committee, require
from governance.roles import is_administrator

# Fields a person may set when drafting or editing a charter (the rest the services set).
CHARTER_INPUT_FIELDS = [*SCALAR_FIELDS, "committee", "lead_organization"]
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
DATASET_FIELDS = ["name", "description", "steward", "jurisdiction", "classification"]
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


def _names(objects: Iterable) -> str:
    names = sorted(str(o) for o in objects)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


# --- Who may act ---------------------------------------------------------------------------


def _is_system(actor) -> bool:
    """A scheduled task acts with no user."""
    return actor is None


def _holds_role(user, committee: Committee, roles: Iterable[str]) -> bool:
    return bool(
        user
        and user.is_authenticated
        and Membership.objects.active().filter(user=user, committee=committee, role__in=list(roles)).exists()
    )


def can_draft(user) -> bool:
    """Staff of a member organization (and program managers) draft charters; administrators too."""
    return bool(user and user.is_authenticated) and (
        is_administrator(user) or (user.organization_id is not None and user.has_perm("charters.add_charter"))
    )


def can_edit(user, charter: Charter) -> bool:
    """A charter's text is in the hands of its author and the people of its lead organization."""
    return bool(user and user.is_authenticated) and (
        is_administrator(user)
        or charter.created_by_id == user.pk
        or (user.organization_id is not None and user.organization_id == charter.lead_organization_id)
    )


def is_secretary(user, committee: Committee) -> bool:
    return is_administrator(user) or _holds_role(user, committee, [Role.SECRETARY])


def is_co_chair(user, committee: Committee) -> bool:
    return is_administrator(user) or _holds_role(user, committee, [Role.CHAIR])


def can_review(user, charter: Charter) -> bool:
    """Reviewers sit on the charter's committee (co-chairs, members, the secretary) and come
    from an organization that is not party to it."""
    if is_administrator(user):
        return True
    seat = (
        Membership.objects.active()
        .filter(user=user, committee_id=charter.committee_id, role__in=[Role.CHAIR, Role.MEMBER, Role.SECRETARY])
        .first()
    )
    return seat is not None and seat.organization_id not in charter.party_organization_ids()


def is_party_person(user, organization_ids: set[int]) -> bool:
    return bool(user and user.is_authenticated and user.organization_id in organization_ids)


# --- Charters: drafting --------------------------------------------------------------------


def _validate_related(
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
                f"The data use agreement '{agreement}' does not bind {_names(missing)}: every party to the charter "
                "must be party to the data use agreements it names."
            )
            break
    if errors:
        raise ValidationError(errors)


def _set_related(charter: Charter, related: dict[str, list]) -> None:
    for name, objects in related.items():
        getattr(charter, name).set(objects)


def _split(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list]]:
    scalars = {k: v for k, v in fields.items() if k in CHARTER_INPUT_FIELDS}
    related = {k: list(v) for k, v in fields.items() if k in RELATED_FIELDS and v is not None}
    return scalars, related


@transaction.atomic
def create_charter(actor: User, **fields: Any) -> Charter:
    """Draft a charter for the actor's own organization (administrators may name any lead)."""
    require(can_draft(actor), "Only staff of a member organization draft charters.")
    scalars, related = _split(fields)
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
    _validate_related(lead, related.get("participating_organizations", []), related.get("data_use_agreements", []))
    charter.save()
    _set_related(charter, related)
    record_event(actor, "charter.created", charter, after=snapshot(charter))
    return charter


def _locked(charter: Charter) -> Charter:
    return (
        Charter.objects.select_for_update(of=("self",))
        .select_related("lead_organization", "committee")
        .get(pk=charter.pk)
    )


@transaction.atomic
def update_charter(actor: User, charter: Charter, **fields: Any) -> Charter:
    """Edit a draft, or a charter sent back for revision. An approved charter changes only by
    amendment (propose_amendment); the lead organization and committee are fixed."""
    require(can_edit(actor, charter), "Only the author and people of the lead organization edit this charter.")
    charter = _locked(charter)
    if charter.status not in EDITABLE_STATUSES:
        raise DomainError(
            f"A charter that is '{charter.status}' cannot be edited: only drafts and charters sent back for "
            "revision can. An approved charter changes by amendment."
        )
    scalars, related = _split(fields)
    for fixed in ("lead_organization", "committee"):
        if fixed in scalars and scalars.pop(fixed) != getattr(charter, fixed):
            raise ValidationError({fixed: f"The {fixed.replace('_', ' ')} of a charter cannot change."})
    before = snapshot(charter)
    for name, value in scalars.items():
        setattr(charter, name, value)
    charter.full_clean()
    participating = related.get("participating_organizations", list(charter.participating_organizations.all()))
    agreements = related.get("data_use_agreements", list(charter.data_use_agreements.all()))
    _validate_related(charter.lead_organization, participating, agreements)
    charter.save()
    _set_related(charter, related)
    record_event(actor, "charter.updated", charter, before=before, after=snapshot(charter))
    return charter


# --- Charters: the lifecycle ---------------------------------------------------------------


def _start(charter: Charter, name: str) -> Charter:
    """Lock the charter and refuse the step unless the lifecycle allows it from here."""
    transition = CHARTER_TRANSITIONS[name]
    charter = _locked(charter)
    if charter.status not in transition.sources:
        raise IllegalTransition("charter", charter.status, transition.target, legal_targets(charter.status))
    return charter


def _finish(actor, charter: Charter, name: str, *, reason: str = "", **after: Any) -> Charter:
    transition = CHARTER_TRANSITIONS[name]
    before = {"status": charter.status}
    charter.status = transition.target
    charter.status_reason = reason
    charter.save(update_fields=["status", "status_reason", "version", "updated_at"])
    record_event(actor, f"charter.{name}", charter, before=before, after={"status": charter.status, **after})
    enqueue("charters.tasks.notify_charter_status", charter.pk, name)
    return charter


def _need_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": f"Say why the charter is {what}."})
    return reason


def pending_version(charter: Charter) -> CharterVersion | None:
    """The version before the committee now (a submission or an amendment), if any."""
    return charter.versions.filter(status=VersionStatus.PROPOSED).first()


def _decide(version: CharterVersion, status: str) -> None:
    version.status = status
    version.decided_at = timezone.now()
    version.save(update_fields=["status", "decided_at"])


def data_contract_problems(charter: Charter, content: dict | None = None) -> list[str]:
    """Why the data contract does not hold yet: each named agreement must be signed by all its
    parties and not expired. `content` is a version's content (an amendment's agreements)."""
    agreements = DataUseAgreement.objects.with_signatures()
    if content is not None:
        agreements = agreements.filter(pk__in=related_ids(content, "data_use_agreements"))
    else:
        agreements = agreements.filter(charters=charter)
    problems = []
    for agreement in agreements.order_by("title"):
        unsigned = agreement.unsigned_parties()
        if unsigned:
            problems.append(f"The data use agreement '{agreement}' is not signed by {_names(unsigned)}.")
        if agreement.is_expired():
            problems.append(f"The data use agreement '{agreement}' expired on {agreement.expires_on:%Y-%m-%d}.")
    return problems


def review_problems(version: CharterVersion | None) -> list[str]:
    """Why the technical reviews do not allow a ballot on this version yet."""
    if version is None:
        return ["No version of the charter is before the committee."]
    reviews = {review.kind: review for review in version.reviews.all()}
    problems = []
    for kind, label in ReviewKind.choices:
        review = reviews.get(kind)
        if review is None:
            problems.append(f"The {label.lower()} review of version {version.number} has not been recorded.")
        elif review.verdict != ReviewVerdict.PASSED:
            problems.append(f"The {label.lower()} review of version {version.number} failed.")
    return problems


@transaction.atomic
def submit(actor: User, charter: Charter) -> Charter:
    """Put a draft (or a revised charter) to the committee: its text becomes a new version."""
    require(can_edit(actor, charter), "Only the author and people of the lead organization submit this charter.")
    charter = _start(charter, "submit")
    charter.full_clean()
    missing = {
        name: f"A charter is submitted with its {Charter._meta.get_field(name).verbose_name}."
        for name in ("objectives", "national_impact")
        if not getattr(charter, name).strip()
    }
    if missing:
        raise ValidationError(missing)
    number = (charter.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    CharterVersion.objects.create(charter=charter, number=number, content=snapshot(charter), proposed_by=actor)
    return _finish(actor, charter, "submit", version=number)


@transaction.atomic
def start_review(actor: User, charter: Charter) -> Charter:
    """The secretary takes a submitted charter into technical review."""
    require(is_secretary(actor, charter.committee), f"Only the secretary of {charter.committee} starts the review.")
    charter = _start(charter, "start_review")
    return _finish(actor, charter, "start_review")


def _require_outcome(ballot, charter: Charter, outcome: str, what: str) -> None:
    """Approval and rejection belong to the committee: only a ballot on this charter with the
    matching outcome may apply them."""
    if (
        ballot is None
        or getattr(ballot, "subject_type", None) != "charter"
        or str(getattr(ballot, "subject_id", "")) != str(charter.pk)
        or getattr(ballot, "outcome", None) != outcome
    ):
        raise PermissionDenied(f"A charter is {what} only by the outcome of a ballot on it.")
    if getattr(ballot, "committee_id", charter.committee_id) != charter.committee_id:
        raise PermissionDenied(f"Only a ballot of {charter.committee} decides on this charter.")


@transaction.atomic
def approve(actor, charter: Charter, *, ballot) -> Charter:
    """Apply a passed ballot: the version under review comes into force. Data contract first:
    every agreement the charter names must still be signed by all its parties."""
    _require_outcome(ballot, charter, "passed", "approved")
    charter = _start(charter, "approve")
    problems = data_contract_problems(charter)
    if problems:
        raise DomainError("The charter cannot be approved: " + " ".join(problems))
    version = pending_version(charter)
    if version is not None:
        _decide(version, VersionStatus.APPROVED)
        charter.version = version.number
    charter = _finish(actor, charter, "approve", ballot=ballot.pk, version=charter.version)
    # An approved charter has a credit account from the moment of approval (DESIGN 2.3),
    # opened in this transaction. Imported here: compute depends on charters, not the reverse.
    from compute.services.ledger import open_account

    open_account(charter, actor)
    return charter


@transaction.atomic
def reject(actor, charter: Charter, *, ballot) -> Charter:
    """Apply a rejected ballot."""
    _require_outcome(ballot, charter, "rejected", "rejected")
    charter = _start(charter, "reject")
    version = pending_version(charter)
    if version is not None:
        _decide(version, VersionStatus.REJECTED)
    return _finish(actor, charter, "reject", ballot=ballot.pk)


@transaction.atomic
def request_revision(actor: User, charter: Charter, *, reason: str) -> Charter:
    """Send a charter under review back to its authors: after a failed technical review, or
    as the way out of a deadlocked ballot. Not while a ballot on it is open."""
    require(
        can_manage_committee(actor, charter.committee),
        f"Only the co-chairs and secretary of {charter.committee} request a revision.",
    )
    reason = _need_reason(reason, "sent back for revision")
    charter = _start(charter, "request_revision")
    _refuse_while_ballot_open(charter)
    version = pending_version(charter)
    if version is not None:
        _decide(version, VersionStatus.REVISION_REQUESTED)
    return _finish(actor, charter, "request_revision", reason=reason)


def _refuse_while_ballot_open(charter: Charter) -> None:
    ballot = Ballot.objects.on(charter).open().first()
    if ballot is not None:
        raise DomainError(f"A ballot on this charter is open ('{ballot}'); wait for it to close.")


def _require_data_in_force(charter: Charter, what: str) -> None:
    problems = data_contract_problems(charter)
    if problems:
        raise DomainError(f"The charter cannot be {what}: " + " ".join(problems))


@transaction.atomic
def activate(actor: User, charter: Charter) -> Charter:
    """Start the work of an approved charter, once its data contract is in force."""
    require(
        can_edit(actor, charter) or is_co_chair(actor, charter.committee),
        "Only the lead organization and the co-chairs activate a charter.",
    )
    charter = _start(charter, "activate")
    _require_data_in_force(charter, "activated")
    return _finish(actor, charter, "activate")


@transaction.atomic
def suspend(actor: User | None, charter: Charter, *, reason: str) -> Charter:
    """Pause an active charter (a co-chair's decision, or the portal's when an agreement the
    charter relies on expires)."""
    require(
        _is_system(actor) or is_co_chair(actor, charter.committee),
        f"Only a co-chair of {charter.committee} suspends a charter.",
    )
    reason = _need_reason(reason, "suspended")
    charter = _start(charter, "suspend")
    return _finish(actor, charter, "suspend", reason=reason)


@transaction.atomic
def resume(actor: User, charter: Charter, *, reason: str = "") -> Charter:
    """Let a suspended charter run again; its data contract must be in force."""
    require(is_co_chair(actor, charter.committee), f"Only a co-chair of {charter.committee} resumes a charter.")
    charter = _start(charter, "resume")
    _require_data_in_force(charter, "resumed")
    return _finish(actor, charter, "resume", reason=(reason or "").strip())


@transaction.atomic
def complete(actor: User, charter: Charter) -> Charter:
    """Close an active charter whose work is done."""
    require(
        can_edit(actor, charter) or is_co_chair(actor, charter.committee),
        "Only the lead organization and the co-chairs complete a charter.",
    )
    charter = _start(charter, "complete")
    return _finish(actor, charter, "complete")


@transaction.atomic
def terminate(actor: User, charter: Charter, *, reason: str) -> Charter:
    """End a charter before its work is done; an amendment before the committee is withdrawn."""
    require(is_co_chair(actor, charter.committee), f"Only a co-chair of {charter.committee} terminates a charter.")
    reason = _need_reason(reason, "terminated")
    charter = _start(charter, "terminate")
    _refuse_while_ballot_open(charter)
    version = pending_version(charter)
    if version is not None:
        _decide(version, VersionStatus.WITHDRAWN)
    return _finish(actor, charter, "terminate", reason=reason)


# The service of each transition, for the API and the pages.
TRANSITION_SERVICES = {
    "submit": submit,
    "start_review": start_review,
    "approve": approve,
    "reject": reject,
    "request_revision": request_revision,
    "activate": activate,
    "suspend": suspend,
    "resume": resume,
    "complete": complete,
    "terminate": terminate,
}


def may_take(user, charter: Charter, name: str) -> bool:
    """Whether the person may take this step (its permission only; the step may still be
    refused by the lifecycle or a gate). Approval and rejection are never a person's step."""
    if name in ("approve", "reject"):
        return False
    if name == "submit":
        return can_edit(user, charter)
    if name == "start_review":
        return is_secretary(user, charter.committee)
    if name == "request_revision":
        return can_manage_committee(user, charter.committee)
    if name in ("activate", "complete"):
        return can_edit(user, charter) or is_co_chair(user, charter.committee)
    return is_co_chair(user, charter.committee)


# Steps that ask the person for a reason.
REASONED_STEPS = {"request_revision", "suspend", "resume", "terminate"}


# --- Amendments ----------------------------------------------------------------------------


@transaction.atomic
def propose_amendment(actor: User, charter: Charter, *, change_note: str, **changes: Any) -> CharterVersion:
    """Propose a new version of an approved charter. The version in force stays in force until
    a ballot on the amendment passes; the amendment needs its own technical reviews and ballot."""
    require(can_edit(actor, charter), "Only the author and people of the lead organization amend this charter.")
    charter = _locked(charter)
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
    scalars, related = _split(changes)
    for fixed in ("lead_organization", "committee"):
        if fixed in scalars and scalars.pop(fixed) != getattr(charter, fixed):
            raise ValidationError({fixed: f"An amendment cannot change the {fixed.replace('_', ' ')}."})
    proposed = copy.copy(charter)
    for name, value in scalars.items():
        setattr(proposed, name, value)
    proposed.full_clean()
    related = {name: related.get(name, list(getattr(charter, name).all())) for name in RELATED_FIELDS}
    _validate_related(charter.lead_organization, related["participating_organizations"], related["data_use_agreements"])
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
    require(can_edit(actor, charter), "Only the author and people of the lead organization withdraw an amendment.")
    charter = _locked(charter)
    version = pending_version(charter)
    if version is None or not version.is_amendment:
        raise DomainError("No amendment of this charter is before the committee.")
    _refuse_while_ballot_open(charter)
    _decide(version, VersionStatus.WITHDRAWN)
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
    _require_outcome(ballot, charter, "passed", "amended")
    charter = _locked(charter)
    version = pending_version(charter)
    if version is None or not version.is_amendment:
        raise DomainError("No amendment of this charter is before the committee.")
    problems = data_contract_problems(charter, version.content)
    if problems:
        raise DomainError("The amendment cannot be approved: " + " ".join(problems))
    before = snapshot(charter)
    _apply_content(charter, version.content)
    _decide(version, VersionStatus.APPROVED)
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
    _require_outcome(ballot, charter, "rejected", "refused an amendment")
    charter = _locked(charter)
    version = pending_version(charter)
    if version is None or not version.is_amendment:
        raise DomainError("No amendment of this charter is before the committee.")
    _decide(version, VersionStatus.REJECTED)
    record_event(actor, "charter.amendment_rejected", charter, after={"version": version.number, "ballot": ballot.pk})
    return version


# --- Ballots on charters -------------------------------------------------------------------


def ballot_problems(charter: Charter) -> list[str]:
    """Why no ballot on the charter may open now; empty when one may.

    A ballot decides the version before the committee: the charter itself while it is under
    review, or a proposed amendment of an approved charter. Both technical reviews of that
    version must have passed, and every agreement it names must be signed by all its parties.
    """
    version = pending_version(charter)
    if charter.status == CharterStatus.UNDER_REVIEW:
        if version is None:  # a charter under review always has its submission pending
            return ["The charter has no version before the committee."]
    elif version is None or not version.is_amendment:
        return [
            f"A ballot on a charter opens while it is under review, or on a proposed amendment; "
            f"this charter is '{charter.status}' with no amendment proposed."
        ]
    return review_problems(version) + data_contract_problems(charter, version.content)


@transaction.atomic
def apply_ballot_outcome(actor, charter: Charter, ballot) -> Charter:
    """Apply a closed ballot's outcome to the charter or the amendment it decided.

    passed → approved (the amendment comes into force); rejected → rejected (the amendment is
    refused, the version in force stays). deadlocked and no_quorum change nothing: the charter
    stays under review (the amendment stays proposed) so the co-chairs can put it to a second
    ballot, as DESIGN.md 2.1 has it for a deadlock, or send it back with request_revision.
    The inconclusive outcome is recorded in the audit log.
    """
    charter = _locked(charter)
    version = pending_version(charter)
    amending = charter.status != CharterStatus.UNDER_REVIEW and version is not None and version.is_amendment
    if ballot.outcome == "passed":
        if amending:
            approve_amendment(actor, charter, ballot=ballot)
            return Charter.objects.get(pk=charter.pk)
        return approve(actor, charter, ballot=ballot)
    if ballot.outcome == "rejected":
        if amending:
            reject_amendment(actor, charter, ballot=ballot)
            return Charter.objects.get(pk=charter.pk)
        return reject(actor, charter, ballot=ballot)
    record_event(
        actor,
        "charter.ballot_inconclusive",
        charter,
        after={"ballot": ballot.pk, "outcome": ballot.outcome, "status": charter.status},
    )
    return charter


# --- Technical reviews ---------------------------------------------------------------------


def sovereignty_findings(content: dict) -> dict[str, list[str]]:
    """What the portal itself finds for the automatic items of the data-sovereignty checklist,
    from a version's content: resources and datasets outside the allowed jurisdictions, and
    restricted data on resources without trusted execution."""
    allowed = content.get("allowed_jurisdictions") or []
    where = ", ".join(allowed) if allowed else "none listed"
    resources = list(Resource.objects.filter(pk__in=related_ids(content, "resources")).order_by("name"))
    datasets = list(
        Dataset.objects.filter(agreements__in=related_ids(content, "data_use_agreements")).distinct().order_by("name")
    )
    findings = {
        "resources_in_jurisdiction": [
            f"The resource {r} is in {r.jurisdiction}, outside the allowed jurisdictions ({where})."
            for r in resources
            if not within(r.jurisdiction, allowed)
        ],
        "datasets_in_jurisdiction": [
            f"The dataset {d} resides in {d.jurisdiction}, outside the allowed jurisdictions ({where})."
            for d in datasets
            if not within(d.jurisdiction, allowed)
        ],
        "tee_for_restricted": [],
    }
    if content.get("data_classification") == DataClassification.RESTRICTED:
        findings["tee_for_restricted"] = [
            f"The resource {r} is not TEE-capable, and the charter's data is restricted."
            for r in resources
            if not r.tee_capable
        ]
    return findings


def review_version(charter: Charter) -> CharterVersion:
    """The version a review is recorded on: the one under technical review now."""
    version = pending_version(charter)
    in_review = charter.status == CharterStatus.UNDER_REVIEW or (
        version is not None and version.is_amendment and charter.status in AMENDABLE_STATUSES
    )
    if version is None or not in_review:
        raise DomainError(
            f"Reviews are recorded while the charter is under review or an amendment is proposed; "
            f"this charter is '{charter.status}'."
        )
    return version


@transaction.atomic
def record_review(
    actor: User,
    charter: Charter,
    *,
    kind: str,
    verdict: str,
    notes: str = "",
    checklist: dict[str, bool] | None = None,
) -> TechnicalReview:
    """Record (or re-record) a technical review of the version under review. A review passes
    only with every checklist item met; the automatic items are the portal's own findings."""
    require(
        can_review(actor, charter),
        "Reviewers are members of the charter's committee from organizations not party to it.",
    )
    if kind not in ReviewKind.values:
        raise ValidationError({"kind": f"Unknown review: choose one of {', '.join(ReviewKind.values)}."})
    if verdict not in ReviewVerdict.values:
        raise ValidationError({"verdict": f"Unknown verdict: choose one of {', '.join(ReviewVerdict.values)}."})
    charter = _locked(charter)
    version = review_version(charter)
    answers = checklist or {}
    findings = sovereignty_findings(version.content) if kind == ReviewKind.DATA_SOVEREIGNTY else {}
    items = []
    for key, label, automatic in REVIEW_CHECKLISTS[kind]:
        found = findings.get(key, [])
        met = not found if automatic else bool(answers.get(key, False))
        items.append({"key": key, "label": label, "met": met, "automatic": automatic, "findings": found})
    notes = (notes or "").strip()
    if verdict == ReviewVerdict.PASSED:
        unmet = [item for item in items if not item["met"]]
        if unmet:
            reasons = " ".join(f for item in unmet for f in item["findings"])
            raise ValidationError(
                {
                    "verdict": "A review passes only when every checklist item is met. Not met: "
                    + "; ".join(item["label"] for item in unmet)
                    + "."
                    + (f" {reasons}" if reasons else "")
                }
            )
    elif not notes:
        raise ValidationError({"notes": "Say why the review failed, so the authors can revise."})
    review = TechnicalReview.objects.filter(version=version, kind=kind).first()
    before = {"verdict": review.verdict, "reviewer": review.reviewer_id} if review else {}
    review = review or TechnicalReview(version=version, kind=kind)
    review.reviewer, review.verdict, review.notes, review.checklist = actor, verdict, notes, items
    review.full_clean()
    review.save()
    record_event(
        actor,
        "charter.reviewed",
        charter,
        before=before,
        after={"version": version.number, "kind": kind, "verdict": verdict, "reviewer": actor.pk},
    )
    return review


# --- Datasets and data use agreements ------------------------------------------------------


def can_catalogue(user, steward: Organization | None) -> bool:
    return is_administrator(user) or (
        steward is not None and user.organization_id == steward.pk and user.has_perm("charters.add_dataset")
    )


@transaction.atomic
def create_dataset(actor: User, **fields: Any) -> Dataset:
    """List a dataset in the catalogue; staff of its steward organization, or administrators."""
    require(can_catalogue(actor, fields.get("steward")), "Only staff of the steward organization list its datasets.")
    dataset = Dataset(**{k: v for k, v in fields.items() if k in DATASET_FIELDS})
    dataset.full_clean()
    dataset.save()
    record_event(actor, "dataset.created", dataset, after={k: str(getattr(dataset, k)) for k in DATASET_FIELDS})
    return dataset


@transaction.atomic
def update_dataset(actor: User, dataset: Dataset, **fields: Any) -> Dataset:
    require(can_catalogue(actor, dataset.steward), "Only staff of the steward organization change its datasets.")
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


def can_draft_agreement(user) -> bool:
    return is_administrator(user) or (
        user.is_authenticated and user.organization_id is not None and user.has_perm("charters.add_datauseagreement")
    )


def can_change_agreement(user, agreement: DataUseAgreement) -> bool:
    return (
        is_administrator(user)
        or agreement.created_by_id == user.pk
        or is_party_person(user, {p.pk for p in agreement.parties.all()})
    )


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
            f"The steward of {_names(stewards)} must be a party: the agreement shares its data. Add "
            + _names({d.steward for d in stewards})
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
                    f"The charter '{charter}' names this agreement, so {_names(missing)} must stay a party."
                )
                break
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_agreement(
    actor: User, *, parties: list[Organization], datasets: list[Dataset], **fields: Any
) -> DataUseAgreement:
    """Draft a data use agreement. It binds nobody until every party has signed it."""
    require(can_draft_agreement(actor), "Only staff of a member organization draft data use agreements.")
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
    require(can_change_agreement(actor, agreement), "Only its author and people of its parties change an agreement.")
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
    agreement = DataUseAgreement.objects.select_for_update().get(pk=agreement.pk)
    parties = {p.pk: p for p in agreement.parties.all()}
    require(
        actor.is_authenticated and actor.organization_id in parties,
        "Only a person of one of the agreement's parties signs it, for their own organization.",
    )
    if agreement.is_expired():
        raise DomainError(f"The agreement expired on {agreement.expires_on:%Y-%m-%d}; renew it before signing.")
    existing = agreement.signatures.filter(organization_id=actor.organization_id).select_related("signed_by").first()
    if existing is not None:
        raise DomainError(
            f"{existing.organization} already signed on {existing.signed_at:%Y-%m-%d}, by {existing.signed_by}."
        )
    signature = Signature.objects.create(
        agreement=agreement, organization=parties[actor.organization_id], signed_by=actor
    )
    record_event(actor, "dua.signed", agreement, after={"organization": actor.organization_id})
    return signature


@transaction.atomic
def renew_agreement(actor: User, agreement: DataUseAgreement, *, expires_on: datetime.date) -> DataUseAgreement:
    """Extend an agreement. Every party signs the renewal: earlier signatures are set aside."""
    require(can_change_agreement(actor, agreement), "Only its author and people of its parties renew an agreement.")
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


# --- Model provenance ----------------------------------------------------------------------


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
        is_administrator(actor) or is_party_person(actor, charter.party_organization_ids()),
        "Only people of the charter's organizations register its models.",
    )
    charter = _locked(charter)
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
                f"{_names(unsigned)}: a model trained on data without a signed agreement cannot be registered."
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
        is_administrator(actor) or is_party_person(actor, model.charter.party_organization_ids()),
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
