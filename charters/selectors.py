"""Reads of the charters app that several places share (the pages, the API, the ballot hooks
and the services): what is before the committee, and what still stands between a charter and
a ballot."""

from __future__ import annotations

from collections.abc import Iterable

from charters.choices import CharterStatus, DataClassification, ReviewKind, ReviewVerdict, VersionStatus
from charters.models import Charter, CharterVersion, Dataset, DataUseAgreement, within
from charters.versions import related_ids
from compute.models import Resource


def list_names(objects: Iterable) -> str:
    """Names in prose, sorted: "A", "A and B", "A, B and C" (for the charter messages)."""
    names = sorted(str(o) for o in objects)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def pending_version(charter: Charter) -> CharterVersion | None:
    """The version before the committee now (a submission or an amendment), if any."""
    return charter.versions.filter(status=VersionStatus.PROPOSED).first()


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
            problems.append(f"The data use agreement '{agreement}' is not signed by {list_names(unsigned)}.")
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


def ballot_problems(charter: Charter) -> list[str]:
    """Why no ballot on the charter may open now; empty when one may.

    A ballot decides the version before the committee: the charter itself while it is under
    review, or a proposed amendment of an approved charter. Both technical reviews of that
    version must have passed, and every agreement it names must be signed by all its parties.
    """
    return ballot_problems_with(charter, pending_version(charter))


def ballot_problems_with(charter: Charter, version: CharterVersion | None) -> list[str]:
    """ballot_problems, for a caller that holds the pending version already (None: there is
    none), with its reviews prefetched where it has them."""
    if charter.status == CharterStatus.UNDER_REVIEW:
        if version is None:  # a charter under review always has its submission pending
            return ["The charter has no version before the committee."]
    elif version is None or not version.is_amendment:
        return [
            f"A ballot on a charter opens while it is under review, or on a proposed amendment; "
            f"this charter is '{charter.status}' with no amendment proposed."
        ]
    return review_problems(version) + data_contract_problems(charter, version.content)


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
