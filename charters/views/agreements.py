"""Pages of data use agreements and the datasets they share: the list, drafting and editing,
an agreement's page, signing and renewal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from charters import permissions
from charters.forms import AgreementForm, RenewForm
from charters.models import Charter, Dataset, DataUseAgreement
from charters.services import agreements
from governance.exceptions import DomainError
from governance.web import add_service_errors, refuse, run_act


@login_required
def agreement_list(request: HttpRequest) -> HttpResponse:
    listed = DataUseAgreement.objects.visible_to(request.user).with_signatures().order_by("expires_on", "title")
    datasets = Dataset.objects.visible_to(request.user).select_related("steward")
    return render(
        request,
        "charters/agreement_list.html",
        {
            "agreements": listed,
            "datasets": datasets,
            "can_draft": permissions.may_draft_agreement(request.user),
        },
    )


@login_required
def agreement_create(request: HttpRequest) -> HttpResponse:
    if not permissions.may_draft_agreement(request.user):
        raise PermissionDenied("Only staff of a member organization draft data use agreements.")
    form = AgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            agreement = agreements.create_agreement(
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
    if not permissions.may_change_agreement(request.user, agreement):
        raise PermissionDenied("Only its author and people of its parties change an agreement.")
    form = AgreementForm(request.POST or None, instance=DataUseAgreement.objects.get(pk=agreement.pk))
    if request.method == "POST" and form.is_valid():
        try:
            agreements.update_agreement(request.user, agreement, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            refuse(request, error)
            return redirect("charters:agreement-detail", agreement.pk)
        else:
            messages.success(request, "Agreement saved.")
            return redirect("charters:agreement-detail", agreement.pk)
    return render(request, "charters/agreement_form.html", {"form": form, "agreement": agreement})


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(DataUseAgreement.objects.visible_to(request.user).with_signatures(), pk=pk)
    user = request.user
    signed_ids = {s.organization_id for s in agreement.signatures.all()}
    return render(
        request,
        "charters/agreement_detail.html",
        {
            "agreement": agreement,
            "signatures": {s.organization_id: s for s in agreement.signatures.all()},
            "can_sign": permissions.may_sign_agreement(user, agreement)
            and user.organization_id not in signed_ids
            and not agreement.is_expired(),
            "can_renew": permissions.may_change_agreement(user, agreement),
            "can_edit": permissions.may_change_agreement(user, agreement) and not signed_ids,
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
    return run_act(
        request,
        lambda: agreements.sign_agreement(request.user, agreement),
        success=f"Signed for {request.user.organization}.",
        redirect_to=reverse("charters:agreement-detail", args=[agreement.pk]),
    )


@login_required
@require_POST
def agreement_renew(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(DataUseAgreement.objects.visible_to(request.user), pk=pk)
    form = RenewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the new expiry date.")
        return redirect("charters:agreement-detail", agreement.pk)
    return run_act(
        request,
        lambda: agreements.renew_agreement(request.user, agreement, expires_on=form.cleaned_data["expires_on"]),
        success="Agreement renewed. Every party signs the renewal.",
        redirect_to=reverse("charters:agreement-detail", args=[agreement.pk]),
    )
