"""Demo charters: one in every state of the lifecycle, data use agreements signed and unsigned
(one expired), technical reviews, an amendment before the committee with its ballot open, and
a few models with a lineage. Everything goes through the services, and every decision through a real ballot.

Adds to the context: "charters" (by a short key, see CHARTERS), "agreements" and "datasets".
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from charters.choices import REVIEW_CHECKLISTS, CharterStatus, ReviewKind, ReviewVerdict
from charters.models import Charter, DataUseAgreement
from charters.services import agreements, amendments, charters, lifecycle, provenance, reviews
from governance import services as governance

DIGESTS = {
    "base": "sha256:" + "3f" * 32,
    "tuned": "sha256:" + "a1" * 32,
    "distilled": "sha256:" + "5c" * 32,
    "forecast": "sha256:" + "e7" * 32,
}


def _dataset(context, name, steward, where, classification, description):
    return agreements.create_dataset(
        context["admin"],
        name=name,
        steward=context["organizations"][steward],
        jurisdiction=where,
        classification=classification,
        description=description,
    )


def _agreement(context, title, parties, datasets, *, signers=(), days=365, **terms):
    orgs, people = context["organizations"], context["people"]
    values = {
        "purpose": terms.pop("purpose", f"Research under the charter that names “{title}”, and nothing else."),
        "anonymization_standard": terms.pop("anonymization_standard", "k_anonymity"),
        "anonymization_details": terms.pop(
            "anonymization_details", "k = 10 on quasi-identifiers, applied by the steward."
        ),
        "insights_owner": terms.pop("insights_owner", "joint"),
        "audit_rights": terms.pop(
            "audit_rights", "The data steward may audit every use of the data twice a year, with 30 days' notice."
        ),
        "expires_on": timezone.localdate() + datetime.timedelta(days=days),
        **terms,
    }
    agreement = agreements.create_agreement(
        context["admin"], title=title, parties=[orgs[p] for p in parties], datasets=datasets, **values
    )
    for username in signers:
        agreements.sign_agreement(people[username], agreement)
    return agreement


def _charter(context, author, **fields):
    orgs = context["organizations"]
    fields["participating_organizations"] = [orgs[p] for p in fields.get("participating_organizations", [])]
    fields.setdefault("committee", context["committee"])
    return charters.create_charter(context["people"][author], **fields)


REVIEWERS = ("ana.public", "ben.private", "dev.public", "fatima.private", "carla.public", "erik.private")


def _review(context, charter, reviewer=None, failed: str | None = None, kinds=tuple(ReviewKind.values)):
    """Record the reviews, by a committee member from an organization not party to the charter."""
    parties = charter.party_organization_ids()
    person = (
        context["people"][reviewer]
        if reviewer
        else next(context["people"][u] for u in REVIEWERS if context["people"][u].organization_id not in parties)
    )
    for kind in kinds:
        manual = {key: True for key, _, automatic in REVIEW_CHECKLISTS[kind] if not automatic}
        if failed == kind:
            reviews.record_review(
                person, charter, kind=kind, verdict="failed", notes="No fairness thresholds are given.", checklist={}
            )
            continue
        reviews.record_review(
            person, charter, kind=kind, verdict=ReviewVerdict.PASSED, notes="In order.", checklist=manual
        )


def _to_review(context, charter):
    charter = lifecycle.submit(charter.created_by, charter)
    return lifecycle.start_review(context["people"]["grace.secretary"], charter)


def _ballot(context, charter: Charter, choice: str, title: str):
    """Put the charter to a real ballot, every eligible member voting `choice`, and close it."""
    people = context["people"]
    chair = people["ana.public"]
    ballot = governance.create_ballot(
        chair, committee=context["committee"], title=title, subject_type="charter", subject_id=charter.pk
    )
    ballot = governance.open_ballot(chair, ballot)
    recused = charter.party_organization_ids()
    for username in ("ana.public", "ben.private", "carla.public", "dev.public", "erik.private", "fatima.private"):
        voter = people[username]
        if voter.organization_id not in recused:
            governance.cast_vote(voter, ballot, choice)
    return governance.close_ballot(chair, ballot)


def _decided(context, charter, choice="yes", title=None):
    charter = _to_review(context, charter)
    _review(context, charter)
    _ballot(context, charter, choice, title or f"Approve the charter “{charter.title}”")
    return Charter.objects.get(pk=charter.pk)


@transaction.atomic
def _name_signatories(context, usernames) -> None:
    """Each organization names who signs data use agreements for it (DESIGN.md 2.7); the
    administrator records them as the organizations ask."""
    people = context["people"]
    by_organization: dict = {}
    for username in usernames:
        person = people[username]
        by_organization.setdefault(person.organization, []).append(person)
    for organization, signatories in by_organization.items():
        governance.set_signatories(context["admin"], organization, signatories)


def seed_demo(context: dict) -> None:
    people = context["people"]
    _name_signatories(context, ["dev.public", "sam.staff", "tara.staff", "grace.secretary"])

    hospital = _dataset(
        context,
        "Hospital discharge records",
        "PHDA",
        "EU",
        "sensitive",
        "Five years of discharge summaries from twelve public hospitals.",
    )
    census = _dataset(
        context,
        "Census microdata",
        "NRC",
        "EU",
        "restricted",
        "The 2021 census at household level, for approved research only.",
    )
    grid = _dataset(
        context,
        "Grid telemetry",
        "Helios",
        "EU",
        "internal",
        "Fifteen-minute load readings from the national grid's substations.",
    )
    imagery = _dataset(
        context,
        "Satellite imagery archive",
        "Aurora",
        "US",
        "internal",
        "Ten years of multispectral imagery, hosted in the United States.",
    )
    filings = _dataset(
        context,
        "Tax filings sample",
        "MDA",
        "EU",
        "restricted",
        "A stratified 2 % sample of anonymized income-tax filings.",
    )

    # Agreements: signed by everyone, partly signed, unsigned, and one that will expire.
    health_dua = _agreement(
        context,
        "Hospital records for federated triage",
        ["PHDA", "NRC", "Helios"],
        [hospital],
        signers=["dev.public", "sam.staff", "tara.staff"],
    )
    grid_dua = _agreement(
        context,
        "Grid telemetry for load forecasting",
        ["Helios", "NRC"],
        [grid],
        signers=["tara.staff", "sam.staff"],
        anonymization_standard="aggregated",
        anonymization_details="Substation-level aggregates only.",
    )
    census_dua = _agreement(
        context,
        "Census microdata for service planning",
        ["NRC", "Northwind"],
        [census],
        signers=["sam.staff"],
        anonymization_standard="differential_privacy",
        anonymization_details="Epsilon 1.0 per release, applied by the council.",
        insights_owner="data_provider",
    )
    imagery_dua = _agreement(
        context,
        "Satellite imagery for crop monitoring",
        ["Helios", "Aurora", "NRC"],
        [imagery],
        anonymization_standard="none",
        anonymization_details="No personal data.",
    )
    tax_dua = _agreement(
        context,
        "Tax filings for fraud analytics",
        ["MDA", "Helios"],
        [filings],
        signers=["grace.secretary", "tara.staff"],
        days=200,
        anonymization_standard="pseudonymised",
    )

    by_state: dict[str, Charter] = {}
    by_state["draft"] = _charter(
        context,
        "sam.staff",
        title="Sovereign language model for public services",
        summary="A foundational language model trained on public-domain national text, hosted at home.",
        objectives="Serve citizen enquiries in both national languages.",
        national_impact="Keeps a strategic capability under national control.",
        ip_framework="government_owned",
        data_classification="internal",
        allowed_jurisdictions=["EU"],
        requested_credits=Decimal("40000"),
        participating_organizations=["Northwind"],
    )
    by_state["submitted"] = _charter(
        context,
        "tara.staff",
        title="Grid load forecasting",
        summary="Forecast national grid load a day ahead from substation telemetry.",
        objectives="Halve the reserve margin held for forecasting error.",
        national_impact="Lower energy bills and fewer peaker plants.",
        ip_framework="private_licensed",
        licence_terms="Non-exclusive, perpetual licence to all members.",
        commercialization_rights="Helios may sell the forecasting service abroad.",
        data_classification="internal",
        allowed_jurisdictions=["EU"],
        requested_credits=Decimal("8000"),
        participating_organizations=["NRC"],
        data_use_agreements=[grid_dua],
    )
    by_state["submitted"] = lifecycle.submit(people["tara.staff"], by_state["submitted"])

    # Under review: the bias review passed, data sovereignty still to record, and one party of
    # the census agreement has not signed — the page shows what stands before a ballot.
    by_state["under_review"] = _to_review(
        context,
        _charter(
            context,
            "sam.staff",
            title="Public service demand planning",
            summary="Predict demand for public services by district from census microdata.",
            objectives="Place new clinics and schools where demand will be.",
            national_impact="Better-placed public services for every region.",
            ip_framework="joint_pool",
            data_classification="restricted",
            allowed_jurisdictions=["EU"],
            requested_credits=Decimal("6000"),
            participating_organizations=["Northwind"],
            data_use_agreements=[census_dua],
        ),
    )
    _review(context, by_state["under_review"], kinds=[ReviewKind.BIAS_AUDIT])

    by_state["revision_requested"] = _to_review(
        context,
        _charter(
            context,
            "paula.pm",
            title="Crop monitoring from orbit",
            summary="Detect crop stress early from multispectral satellite imagery.",
            objectives="Warn farmers of drought stress two weeks earlier.",
            national_impact="Food security in dry years.",
            ip_framework="joint_pool",
            data_classification="internal",
            allowed_jurisdictions=["EU"],
            requested_credits=Decimal("3000"),
            participating_organizations=["Helios", "Aurora"],
            data_use_agreements=[imagery_dua],
        ),
    )
    _review(
        context,
        by_state["revision_requested"],
        reviewer="ben.private",
        failed=ReviewKind.BIAS_AUDIT,
        kinds=[ReviewKind.BIAS_AUDIT],
    )
    by_state["revision_requested"] = lifecycle.request_revision(
        people["grace.secretary"],
        by_state["revision_requested"],
        reason="The bias audit plan gives no fairness thresholds, and the imagery resides in the US, "
        "outside the allowed jurisdictions.",
    )

    by_state["rejected"] = _decided(
        context,
        _charter(
            context,
            "tara.staff",
            title="Automated benefit eligibility decisions",
            summary="Decide benefit eligibility automatically from tax filings.",
            objectives="Process claims in a day.",
            national_impact="Faster payments, at the cost of human review.",
            ip_framework="private_licensed",
            licence_terms="Royalty-free use by the ministry.",
            data_classification="restricted",
            allowed_jurisdictions=["EU"],
            requested_credits=Decimal("12000"),
        ),
        choice="no",
    )

    by_state["approved"] = _decided(
        context,
        _charter(
            context,
            "tara.staff",
            title="Fraud analytics on tax filings",
            summary="Flag filings for human review with a model trained on pseudonymized filings.",
            objectives="Double the yield of audits.",
            national_impact="Fairer tax collection.",
            ip_framework="government_owned",
            data_classification="restricted",
            allowed_jurisdictions=["EU"],
            requested_credits=Decimal("9000"),
            participating_organizations=["MDA"],
            data_use_agreements=[tax_dua],
        ),
    )

    triage = _decided(
        context,
        _charter(
            context,
            "sam.staff",
            title="Federated triage model",
            summary="A triage model trained across hospitals without moving patient records.",
            objectives="Cut emergency waiting times by a fifth.",
            national_impact="Faster emergency care in every region.",
            ip_framework="joint_pool",
            data_classification="sensitive",
            allowed_jurisdictions=["EU"],
            requested_credits=Decimal("15000"),
            participating_organizations=["PHDA", "Helios"],
            data_use_agreements=[health_dua],
        ),
    )
    by_state["active"] = lifecycle.activate(people["sam.staff"], triage)
    sam = people["sam.staff"]
    base = provenance.register_model(
        sam,
        charter=triage,
        name="triage-net",
        version="1.0",
        digest=DIGESTS["base"],
        credits_consumed=Decimal("4200"),
        gpu_hours=Decimal("1680"),
        bias_audit_summary="Within thresholds for age and sex; rural patients slightly under-triaged.",
        bias_audit_results={"demographic_parity_gap": 0.04, "equal_opportunity_gap_rural": 0.07},
        intended_use="Decision support for triage nurses; never the sole basis of a decision.",
        limitations="Not evaluated on paediatric patients.",
        evaluation="AUROC 0.87 on a held-out hospital.",
        training_data=[{"dataset": hospital, "agreement": health_dua}],
    )
    tuned = provenance.register_model(
        sam,
        charter=triage,
        name="triage-net",
        version="1.1",
        digest=DIGESTS["tuned"],
        parent=base,
        credits_consumed=Decimal("900"),
        gpu_hours=Decimal("360"),
        bias_audit_summary="Rural gap closed after re-weighting.",
        bias_audit_results={"demographic_parity_gap": 0.03, "equal_opportunity_gap_rural": 0.02},
        intended_use="As 1.0.",
        training_data=[{"dataset": hospital, "agreement": health_dua}],
    )
    provenance.register_model(
        sam,
        charter=triage,
        name="triage-net-small",
        version="1.1-distilled",
        digest=DIGESTS["distilled"],
        parent=tuned,
        credits_consumed=Decimal("150"),
        gpu_hours=Decimal("60"),
        intended_use="Offline use in ambulances.",
        limitations="Two points of AUROC below 1.1.",
    )
    # An amendment before the committee: more credits and a new partner.
    amendments.propose_amendment(
        sam,
        triage,
        change_note="Extend to paediatric emergencies with Northwind's help.",
        requested_credits=Decimal("22000"),
        summary="A triage model for adult and paediatric emergencies, trained across hospitals without "
        "moving patient records.",
    )
    _review(context, triage)
    chair = people["ana.public"]
    amendment_ballot = governance.open_ballot(
        chair,
        governance.create_ballot(
            chair,
            committee=context["committee"],
            title="Approve amendment (version 2) of the charter “Federated triage model”",
            subject_type="charter",
            subject_id=triage.pk,
            closes_at=timezone.now() + datetime.timedelta(days=5),
        ),
    )
    governance.cast_vote(chair, amendment_ballot, "yes")

    # A charter on an open ballot that every voting member may vote on: its lead, the Open Data
    # Institute, sits on no seat of the committee, so nobody is recused. One co-chair has voted.
    benchmarks = _to_review(
        context,
        charters.create_charter(
            context["admin"],
            committee=context["committee"],
            lead_organization=context["organizations"]["ODI"],
            title="Open evaluation benchmarks",
            summary="Public benchmarks and red-teaming suites for every model the partnership funds.",
            objectives="Publish a benchmark suite in both national languages and run it on each release.",
            national_impact="Citizens and regulators can check the models the partnership puts into service.",
            ip_framework="joint_pool",
            data_classification="public",
            allowed_jurisdictions=["EU"],
            requested_credits=Decimal("6000"),
        ),
    )
    _review(context, benchmarks)
    benchmarks_ballot = governance.open_ballot(
        chair,
        governance.create_ballot(
            chair,
            committee=context["committee"],
            title="Approve the charter “Open evaluation benchmarks”",
            subject_type="charter",
            subject_id=benchmarks.pk,
            closes_at=timezone.now() + datetime.timedelta(days=6),
        ),
    )
    governance.cast_vote(people["ben.private"], benchmarks_ballot, "yes")

    forecast = _decided(
        context,
        _charter(
            context,
            "tara.staff",
            title="Substation fault prediction",
            summary="Predict substation faults a week ahead from telemetry.",
            objectives="Cut unplanned outages by a third.",
            national_impact="A more reliable grid.",
            ip_framework="private_licensed",
            licence_terms="Royalty-free use by grid operators in the partnership.",
            data_classification="internal",
            allowed_jurisdictions=["EU"],
            requested_credits=Decimal("5000"),
            participating_organizations=["NRC"],
            data_use_agreements=[grid_dua],
        ),
    )
    forecast = lifecycle.activate(people["tara.staff"], forecast)
    provenance.register_model(
        people["tara.staff"],
        charter=forecast,
        name="fault-forecaster",
        version="2.0",
        digest=DIGESTS["forecast"],
        credits_consumed=Decimal("1300"),
        gpu_hours=Decimal("520"),
        bias_audit_summary="Not applicable: no personal data.",
        intended_use="Maintenance planning.",
        training_data=[{"dataset": grid, "agreement": grid_dua}],
    )
    by_state["completed"] = lifecycle.complete(people["tara.staff"], forecast)

    # Suspended: active until its agreement expired; the hourly check suspends it.
    suspended = _decided(
        context,
        _charter(
            context,
            "tara.staff",
            title="Fraud analytics pilot (phase 0)",
            summary="A small pilot of fraud analytics on filings, before the full project.",
            objectives="Show the approach works on a sample.",
            national_impact="De-risks the full project.",
            ip_framework="government_owned",
            data_classification="restricted",
            allowed_jurisdictions=["EU"],
            requested_credits=Decimal("1000"),
            participating_organizations=["MDA"],
            data_use_agreements=[tax_dua],
        ),
    )
    lifecycle.activate(people["tara.staff"], suspended)
    # Time passes: the agreement's end date comes and goes (the demo moves the date, the portal
    # does the rest).
    DataUseAgreement.objects.filter(pk=tax_dua.pk).update(expires_on=timezone.localdate() - datetime.timedelta(days=2))
    agreements.flag_expired_agreements()
    by_state["suspended"] = Charter.objects.get(pk=suspended.pk)

    terminated = _decided(
        context,
        _charter(
            context,
            "sam.staff",
            title="Chatbot for benefit enquiries",
            summary="Answer benefit enquiries with a retrieval-augmented assistant.",
            objectives="Answer half of enquiries without a caseworker.",
            national_impact="Shorter queues at benefit offices.",
            ip_framework="joint_pool",
            data_classification="internal",
            allowed_jurisdictions=["EU"],
            requested_credits=Decimal("2000"),
            participating_organizations=["Northwind"],
        ),
    )
    # Terminating takes both sectors' co-chairs: Ana asks, Ben joins.
    superseded = "Superseded by the sovereign language model project."
    lifecycle.terminate(people["ana.public"], terminated, reason=superseded)
    by_state["terminated"] = lifecycle.terminate(
        people["ben.private"], Charter.objects.get(pk=terminated.pk), reason=superseded
    )

    missing = set(CharterStatus.values) - {c.status for c in by_state.values()}
    if missing:
        raise RuntimeError(f"The demo has no charter in: {', '.join(sorted(missing))}.")
    context["charters"] = by_state
    context["agreements"] = {
        "health": health_dua,
        "grid": grid_dua,
        "census": census_dua,
        "imagery": imagery_dua,
        "tax": tax_dua,
    }
    context["datasets"] = {"hospital": hospital, "census": census, "grid": grid, "imagery": imagery, "filings": filings}
