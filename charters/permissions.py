"""Who may do what in the charters app: one function per act, named by the act.

The services `require()` these; the API's `may_create`/`may_change` hooks and the page guards
ask the same functions, so a button is shown exactly when the service would accept the act.
"Co-chair" means an active co-chair seat (governance); where administrators may act too, the
function says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from governance.choices import Role
from governance.models import Membership
from governance.permissions import can_manage_committee, is_co_chair, is_secretary, is_signed_in
from governance.roles import is_administrator

if TYPE_CHECKING:
    from charters.models import Charter, DataUseAgreement, RegisteredModel
    from governance.models import Committee, Organization

# The seats whose holders review charters (from an organization not party to the charter).
REVIEWER_ROLES = [Role.CHAIR, Role.MEMBER, Role.SECRETARY]


def is_party_person(user, organization_ids: set[int]) -> bool:
    """Whether the person belongs to one of these organizations (a charter's or an agreement's
    parties)."""
    return is_signed_in(user) and user.organization_id in organization_ids


def _runs_the_committee(user, committee: Committee) -> bool:
    """Administrators, and the co-chairs of the committee."""
    return is_administrator(user) or is_co_chair(user, committee)


# --- Charters ------------------------------------------------------------------------------


def may_draft(user) -> bool:
    """Staff of a member organization (and program managers) draft charters; administrators too."""
    return is_signed_in(user) and (
        is_administrator(user) or (user.organization_id is not None and user.has_perm("charters.add_charter"))
    )


def may_edit(user, charter: Charter) -> bool:
    """A charter's text is in the hands of its author and the people of its lead organization
    (and administrators): they edit it, submit it, amend it and withdraw an amendment."""
    return is_signed_in(user) and (
        is_administrator(user)
        or charter.created_by_id == user.pk
        or (user.organization_id is not None and user.organization_id == charter.lead_organization_id)
    )


def may_take_step(user, charter: Charter, name: str) -> bool:
    """Whether the person may take this lifecycle step (its permission only; the step may still
    be refused by the lifecycle or a gate). Approval and rejection are never a person's step:
    only a ballot's outcome applies them."""
    if name in ("approve", "reject"):
        return False
    if name == "submit":
        return may_edit(user, charter)
    if name == "start_review":
        return is_administrator(user) or is_secretary(user, charter.committee)
    if name == "request_revision":
        return can_manage_committee(user, charter.committee)
    if name in ("activate", "complete"):
        return may_edit(user, charter) or _runs_the_committee(user, charter.committee)
    # suspend, resume, terminate: the co-chairs, each for their sector; the step is taken once
    # every sector's co-chair has asked (charters.services.lifecycle).
    return is_co_chair(user, charter.committee)


def may_review(user, charter: Charter) -> bool:
    """Reviewers sit on the charter's committee (co-chairs, members, the secretary) and come
    from an organization that is not party to it; administrators too."""
    if is_administrator(user):
        return True
    if not is_signed_in(user):
        return False
    seat = (
        Membership.objects.active()
        .filter(user=user, committee_id=charter.committee_id, role__in=REVIEWER_ROLES)
        .first()
    )
    return seat is not None and seat.organization_id not in charter.party_organization_ids()


# --- Datasets and data use agreements ------------------------------------------------------


def may_catalogue(user, steward: Organization | None) -> bool:
    """Staff of a dataset's steward organization list and change its datasets; administrators too."""
    return is_administrator(user) or (
        steward is not None and user.organization_id == steward.pk and user.has_perm("charters.add_dataset")
    )


def may_draft_agreement(user) -> bool:
    """Staff of a member organization draft data use agreements; administrators too."""
    return is_administrator(user) or (
        is_signed_in(user) and user.organization_id is not None and user.has_perm("charters.add_datauseagreement")
    )


def may_add_datasets(user) -> bool:
    """Whether the person may list any dataset at all (which steward is checked once named)."""
    return may_draft_agreement(user) or user.has_perm("charters.add_dataset")


def may_change_agreement(user, agreement: DataUseAgreement) -> bool:
    """Its author and the people of its parties change and renew an agreement; administrators too."""
    return (
        is_administrator(user)
        or agreement.created_by_id == user.pk
        or is_party_person(user, {p.pk for p in agreement.parties.all()})
    )


def may_sign_agreement(user, agreement: DataUseAgreement) -> bool:
    """A signatory that one of the agreement's parties has named signs it, for that
    organization (DESIGN.md 2.7); no other of its people can bind it."""
    return (
        is_party_person(user, {p.pk for p in agreement.parties.all()})
        and user.signatory_for.filter(pk=user.organization_id).exists()
    )


# --- Model provenance ----------------------------------------------------------------------


def may_register_models(user) -> bool:
    """Whether the person may register any model at all (which charter is checked once named)."""
    return is_signed_in(user) and (user.organization_id is not None or is_administrator(user))


def may_register_model(user, charter: Charter) -> bool:
    """People of the charter's organizations register its models; administrators too."""
    return is_administrator(user) or is_party_person(user, charter.party_organization_ids())


def may_change_model(user, model: RegisteredModel) -> bool:
    """People of the charter's organizations update its models' cards; administrators too."""
    return may_register_model(user, model.charter)
