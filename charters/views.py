"""Pages of the charters app. They read through each model's `visible_to` and write through
charters.services; a refused step comes back as a message on the page it was asked from."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from charters import services
from charters.choices import (
    CHARTER_TRANSITIONS,
    IP_FRAMEWORK_COMPARISON,
    REVIEW_CHECKLISTS,
    IPFramework,
    ReviewKind,
)
from charters.filters import CharterFilter
from charters.forms import (
    AgreementForm,
    AmendmentForm,
    CharterForm,
    ReasonForm,
    RenewForm,
    ReviewForm,
    add_service_errors,
)
from charters.models import Charter, CharterVersion, Dataset, DataUseAgreement, RegisteredModel, TechnicalReview
from charters.prov import model_provenance
from charters.versions import diff
from governance import services as governance_services
from governance.choices import Outcome, Sector, SubjectType
from governance.exceptions import DomainError
from governance.models import Ballot
from governance.models.ballots import tallies_for
from governance.pagination import paginate
from governance.permissions import can_prepare_ballots

CHARTERS_PER_PAGE = 50


def _visible_charter(request: HttpRequest, pk: int) -> Charter:
    return get_object_or_404(Charter.objects.visible_to(request.user).for_listing(), pk=pk)


def _refusal(request: HttpRequest, error: Exception) -> None:
    """Show a refused action as a message: a rule (409), a missing right (403) or bad input."""
    if isinstance(error, DomainError):
        messages.error(request, error.message)
    elif isinstance(error, ValidationError):
        messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, str(error) or "You may not do this.")


# --- Charters ------------------------------------------------------------------------------


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Every charter the person may see, filtered by status, lead sector, IP model, classification."""
    charters = CharterFilter(request.GET or None, queryset=Charter.objects.visible_to(request.user).for_listing())
    # A page at a time: a list of every charter grows with the body's history (3,000 charters
    # made a 1 MB page that took 2 s to render; see bench/pages.py).
    page, query = paginate(request, charters.qs.order_by("-created_at", "-pk"), CHARTERS_PER_PAGE)
    return render(
        request,
        "charters/charter_list.html",
        {
            "filter": charters,
            "page": page,
            "query": query,
            "charters": page.object_list,
            "can_draft": services.can_draft(request.user),
        },
    )


@login_required
def charter_create(request: HttpRequest) -> HttpResponse:
    if not services.can_draft(request.user):
        raise PermissionDenied("Only staff of a member organization draft charters.")
    form = CharterForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            charter = services.create_charter(request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Draft saved. Submit it when it is ready for the committee.")
            return redirect("charters:detail", charter.pk)
    return render(request, "charters/charter_form.html", {"form": form, "charter": None})


@login_required
def charter_edit(request: HttpRequest, pk: int) -> HttpResponse:
    charter = _visible_charter(request, pk)
    if not services.can_edit(request.user, charter):
        raise PermissionDenied("Only the author and people of the lead organization edit this charter.")
    if not charter.is_editable:
        messages.error(request, "Only drafts and charters sent back for revision are edited; propose an amendment.")
        return redirect("charters:detail", charter.pk)
    form = CharterForm(request.POST or None, instance=Charter.objects.get(pk=charter.pk), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_charter(request.user, charter, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Charter saved.")
            return redirect("charters:detail", charter.pk)
    return render(request, "charters/charter_form.html", {"form": form, "charter": charter})


def _parties_by_sector(charter: Charter) -> list[dict]:
    parties = [(charter.lead_organization, True)] + [
        (o, False) for o in charter.participating_organizations.all() if o.pk != charter.lead_organization_id
    ]
    return [
        {
            "value": value,
            "label": label,
            "organizations": sorted(((o, lead) for o, lead in parties if o.sector == value), key=lambda p: p[0].name),
        }
        for value, label in Sector.choices
    ]


@login_required
def charter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything about one charter: summary, parties, reviews, agreements, versions, models, ballots."""
    charter = _visible_charter(request, pk)
    user = request.user
    versions = list(
        charter.versions.select_related("proposed_by")
        .prefetch_related(Prefetch("reviews", queryset=TechnicalReview.objects.select_related("reviewer")))
        .order_by("number")
    )
    pending = next((v for v in versions if v.status == "proposed"), None)
    shown_version = pending or (versions[-1] if versions else None)
    reviews = {r.kind: r for r in shown_version.reviews.all()} if shown_version else {}
    in_review = pending is not None and (charter.status == "under_review" or pending.is_amendment)
    steps = [
        {"transition": t, "needs_reason": t.name in services.REASONED_STEPS}
        for t in charter.transitions()
        if services.may_take(user, charter, t.name)
    ]
    agreements = DataUseAgreement.objects.with_signatures().filter(charters=charter).order_by("title")
    ballots = list(Ballot.objects.visible_to(user).on(charter).order_by("-created_at"))
    tallies = tallies_for(ballots)
    context = {
        "charter": charter,
        "parties_by_sector": _parties_by_sector(charter),
        "steps": steps,
        "ballot_only": [t for t in charter.transitions() if t.name in ("approve", "reject")],
        "versions": versions,
        "pending": pending,
        "shown_version": shown_version,
        "review_rows": [
            {"kind": kind, "label": label, "review": reviews.get(kind)} for kind, label in ReviewKind.choices
        ],
        "in_review": in_review,
        "can_review": in_review and services.can_review(user, charter),
        "ballot_problems": services.ballot_problems(charter) if in_review else [],
        "findings": services.sovereignty_findings(pending.content) if in_review else {},
        "agreements": agreements,
        "resources": charter.resources.order_by("name"),
        "models": charter.models.select_related("parent").order_by("name", "version"),
        "can_edit": services.can_edit(user, charter),
        "can_amend": services.can_edit(user, charter) and charter.status in ("approved", "active", "suspended"),
        "open_ballot": next((b for b in ballots if b.status == "open"), None),
        "ballot_sectors": [label for _, label in Sector.choices],
        "ballots": [
            {
                "ballot": b,
                "tally": tallies[b.pk],
                "provisional": dict(Outcome.choices).get((tallies[b.pk] or {}).get("outcome"), "—"),
                "sectors": [(tallies[b.pk] or {}).get("sectors", {}).get(value) for value, _ in Sector.choices],
            }
            for b in ballots
        ],
        "can_prepare_ballot": in_review
        and can_prepare_ballots(user, charter.committee)
        and not any(b.status in ("draft", "open") for b in ballots),
    }
    return render(request, "charters/charter_detail.html", context)


@login_required
@require_POST
def prepare_ballot(request: HttpRequest, pk: int) -> HttpResponse:
    """Prepare a draft ballot on the version before the committee, then go to the ballot."""
    charter = _visible_charter(request, pk)
    version = services.pending_version(charter)
    if version is not None and version.is_amendment:
        title = f"Approve amendment (version {version.number}) of the charter “{charter.title}”"
    else:
        title = f"Approve the charter “{charter.title}”"
    try:
        ballot = governance_services.create_ballot(
            request.user,
            committee=charter.committee,
            title=title[:200],
            subject_type=SubjectType.CHARTER,
            subject_id=charter.pk,
        )
    except (DomainError, ValidationError, PermissionDenied) as error:
        _refusal(request, error)
        return redirect("charters:detail", charter.pk)
    messages.success(request, "Ballot prepared as a draft: a co-chair opens it.")
    return redirect("ballots:detail", ballot.pk)


@login_required
@require_POST
def charter_step(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Take one lifecycle step from the charter page."""
    charter = _visible_charter(request, pk)
    if name not in CHARTER_TRANSITIONS or name in ("approve", "reject"):
        raise Http404("No such step.")
    kwargs = {}
    if name in services.REASONED_STEPS:
        form = ReasonForm(request.POST)
        form.is_valid()
        kwargs["reason"] = form.cleaned_data.get("reason", "")
    try:
        charter = services.TRANSITION_SERVICES[name](request.user, charter, **kwargs)
    except (DomainError, ValidationError, PermissionDenied) as error:
        _refusal(request, error)
    else:
        messages.success(
            request, f"{CHARTER_TRANSITIONS[name].label}: the charter is now {charter.get_status_display().lower()}."
        )
    return redirect("charters:detail", charter.pk)


@login_required
def review_form(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Record a technical review of the version under review."""
    charter = _visible_charter(request, pk)
    if kind not in ReviewKind.values:
        raise Http404("No such review.")
    if not services.can_review(request.user, charter):
        raise PermissionDenied("Reviewers are members of the charter's committee from organizations not party to it.")
    try:
        version = services.review_version(charter)
    except DomainError as error:
        _refusal(request, error)
        return redirect("charters:detail", charter.pk)
    existing = version.reviews.filter(kind=kind).first()
    initial = {}
    if existing:
        initial = {"verdict": existing.verdict, "notes": existing.notes}
        initial.update({f"item_{item['key']}": item["met"] for item in existing.checklist})
    form = ReviewForm(request.POST or None, kind=kind, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_review(
                request.user,
                charter,
                kind=kind,
                verdict=form.cleaned_data["verdict"],
                notes=form.cleaned_data["notes"],
                checklist=form.checklist(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{ReviewKind(kind).label} review recorded.")
            return redirect("charters:detail", charter.pk)
    findings = services.sovereignty_findings(version.content) if kind == ReviewKind.DATA_SOVEREIGNTY else {}
    automatic = [
        {"label": label, "findings": findings.get(key, [])}
        for key, label, is_automatic in REVIEW_CHECKLISTS[kind]
        if is_automatic
    ]
    return render(
        request,
        "charters/review_form.html",
        {"charter": charter, "version": version, "kind": ReviewKind(kind), "form": form, "automatic": automatic},
    )


@login_required
def amendment_form(request: HttpRequest, pk: int) -> HttpResponse:
    charter = _visible_charter(request, pk)
    if not services.can_edit(request.user, charter):
        raise PermissionDenied("Only the author and people of the lead organization amend this charter.")
    form = AmendmentForm(request.POST or None, instance=Charter.objects.get(pk=charter.pk), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.propose_amendment(request.user, charter, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            _refusal(request, error)
            return redirect("charters:detail", charter.pk)
        else:
            messages.success(
                request, f"Amendment proposed as version {version.number}; it needs its own reviews and ballot."
            )
            return redirect("charters:detail", charter.pk)
    return render(request, "charters/amendment_form.html", {"form": form, "charter": charter})


@login_required
@require_POST
def amendment_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    charter = _visible_charter(request, pk)
    try:
        version = services.withdraw_amendment(request.user, charter)
    except (DomainError, PermissionDenied) as error:
        _refusal(request, error)
    else:
        messages.success(request, f"Amendment (version {version.number}) withdrawn.")
    return redirect("charters:detail", charter.pk)


@login_required
def version_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """One version exactly as it was put to the committee."""
    charter = _visible_charter(request, pk)
    version = get_object_or_404(CharterVersion.objects.select_related("proposed_by"), charter=charter, number=number)
    previous = charter.versions.filter(number__lt=number).order_by("-number").first()
    return render(
        request,
        "charters/version_detail.html",
        {"charter": charter, "version": version, "content": version.content, "previous": previous},
    )


@login_required
def version_diff(request: HttpRequest, pk: int) -> HttpResponse:
    """What changed between two versions (?from=N&to=M; by default the last two)."""
    charter = _visible_charter(request, pk)
    versions = list(charter.versions.order_by("number"))
    if len(versions) < 2:
        messages.info(request, "This charter has a single version: there is nothing to compare yet.")
        return redirect("charters:detail", charter.pk)
    by_number = {v.number: v for v in versions}
    try:
        old = by_number[int(request.GET.get("from", versions[-2].number))]
        new = by_number[int(request.GET.get("to", versions[-1].number))]
    except (KeyError, ValueError) as error:
        raise Http404("No such version.") from error
    return render(
        request,
        "charters/version_diff.html",
        {"charter": charter, "versions": versions, "old": old, "new": new, "changes": diff(old.content, new.content)},
    )


@login_required
def ip_frameworks(request: HttpRequest) -> HttpResponse:
    """The three IP framework models side by side, as the partnership guide compares them."""
    frameworks = IPFramework.choices
    rows = [
        {"dimension": dimension, "cells": [values.get(value) for value, _ in frameworks]}
        for dimension, values in IP_FRAMEWORK_COMPARISON
    ]
    counts = {
        value: Charter.objects.visible_to(request.user).filter(ip_framework=value).exclude(status="draft").count()
        for value, _ in frameworks
    }
    return render(
        request,
        "charters/ip_frameworks.html",
        {"frameworks": [{"value": v, "label": label, "charters": counts[v]} for v, label in frameworks], "rows": rows},
    )


# --- Data use agreements -------------------------------------------------------------------


@login_required
def agreement_list(request: HttpRequest) -> HttpResponse:
    agreements = DataUseAgreement.objects.visible_to(request.user).with_signatures().order_by("expires_on", "title")
    datasets = Dataset.objects.visible_to(request.user).select_related("steward")
    return render(
        request,
        "charters/agreement_list.html",
        {
            "agreements": agreements,
            "datasets": datasets,
            "can_draft": services.can_draft_agreement(request.user),
        },
    )


@login_required
def agreement_create(request: HttpRequest) -> HttpResponse:
    if not services.can_draft_agreement(request.user):
        raise PermissionDenied("Only staff of a member organization draft data use agreements.")
    form = AgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            agreement = services.create_agreement(
                request.user, parties=data.pop("parties"), datasets=data.pop("datasets"), **data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Agreement drafted. Each party now signs it.")
            return redirect("charters:agreement-detail", agreement.pk)
    return render(request, "charters/agreement_form.html", {"form": form})


@login_required
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an agreement's terms while no party has signed it."""
    agreement = get_object_or_404(DataUseAgreement.objects.visible_to(request.user), pk=pk)
    if not services.can_change_agreement(request.user, agreement):
        raise PermissionDenied("Only its author and people of its parties change an agreement.")
    form = AgreementForm(request.POST or None, instance=DataUseAgreement.objects.get(pk=agreement.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_agreement(request.user, agreement, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            _refusal(request, error)
            return redirect("charters:agreement-detail", agreement.pk)
        else:
            messages.success(request, "Agreement saved.")
            return redirect("charters:agreement-detail", agreement.pk)
    return render(request, "charters/agreement_form.html", {"form": form, "agreement": agreement})


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(DataUseAgreement.objects.visible_to(request.user).with_signatures(), pk=pk)
    user = request.user
    party_ids = {p.pk for p in agreement.parties.all()}
    signed_ids = {s.organization_id for s in agreement.signatures.all()}
    return render(
        request,
        "charters/agreement_detail.html",
        {
            "agreement": agreement,
            "signatures": {s.organization_id: s for s in agreement.signatures.all()},
            "can_sign": user.organization_id in party_ids
            and user.organization_id not in signed_ids
            and not agreement.is_expired(),
            "can_renew": services.can_change_agreement(user, agreement),
            "can_edit": services.can_change_agreement(user, agreement) and not signed_ids,
            "renew_form": RenewForm(),
            "charters": Charter.objects.visible_to(user)
            .filter(data_use_agreements=agreement)
            .select_related("lead_organization"),
            "datasets": agreement.datasets.select_related("steward"),
        },
    )


@login_required
@require_POST
def agreement_sign(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(DataUseAgreement.objects.visible_to(request.user), pk=pk)
    try:
        services.sign_agreement(request.user, agreement)
    except (DomainError, PermissionDenied) as error:
        _refusal(request, error)
    else:
        messages.success(request, f"Signed for {request.user.organization}.")
    return redirect("charters:agreement-detail", agreement.pk)


@login_required
@require_POST
def agreement_renew(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(DataUseAgreement.objects.visible_to(request.user), pk=pk)
    form = RenewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the new expiry date.")
        return redirect("charters:agreement-detail", agreement.pk)
    try:
        services.renew_agreement(request.user, agreement, expires_on=form.cleaned_data["expires_on"])
    except (ValidationError, PermissionDenied) as error:
        _refusal(request, error)
    else:
        messages.success(request, "Agreement renewed. Every party signs the renewal.")
    return redirect("charters:agreement-detail", agreement.pk)


# --- Model provenance ----------------------------------------------------------------------


@login_required
def model_list(request: HttpRequest) -> HttpResponse:
    models = (
        RegisteredModel.objects.visible_to(request.user).select_related("charter", "parent").order_by("name", "version")
    )
    return render(request, "charters/model_list.html", {"models": models})


@login_required
def model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A model's card and provenance: training data through its agreements, compute, lineage."""
    model = get_object_or_404(
        RegisteredModel.objects.visible_to(request.user).select_related(
            "charter__lead_organization", "parent", "registered_by"
        ),
        pk=pk,
    )
    return render(
        request,
        "charters/model_detail.html",
        {
            "model": model,
            "lineage": model.lineage(),
            "children": model.children.order_by("name", "version"),
            "training_data": model.training_data.select_related("dataset__steward", "agreement"),
            "bias_results": sorted(model.bias_audit_results.items()),
        },
    )


@login_required
def model_prov(request: HttpRequest, pk: int) -> JsonResponse:
    """The model's provenance as a W3C PROV-JSON download."""
    model = get_object_or_404(RegisteredModel.objects.visible_to(request.user), pk=pk)
    response = JsonResponse(
        model_provenance(model, base=request.build_absolute_uri("/")), json_dumps_params={"indent": 2}
    )
    response["Content-Disposition"] = f'attachment; filename="model-{model.pk}-prov.json"'
    return response
