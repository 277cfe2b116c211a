"""Pages of amendments and the versions they make: proposing and withdrawing an amendment, one
version as it was put to the committee, and what changed between two."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from charters import permissions
from charters.forms import AmendmentForm
from charters.models import Charter, CharterVersion
from charters.services import amendments
from charters.versions import diff
from charters.views.charters import visible_charter
from governance.exceptions import DomainError
from governance.web import add_service_errors, refuse


@login_required
def amendment_form(request: HttpRequest, pk: int) -> HttpResponse:
    charter = visible_charter(request, pk)
    if not permissions.may_edit(request.user, charter):
        raise PermissionDenied("Only the author and people of the lead organization amend this charter.")
    form = AmendmentForm(request.POST or None, instance=Charter.objects.get(pk=charter.pk), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            version = amendments.propose_amendment(request.user, charter, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            refuse(request, error)
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
    charter = visible_charter(request, pk)
    try:
        version = amendments.withdraw_amendment(request.user, charter)
    except (DomainError, PermissionDenied) as error:
        refuse(request, error)
    else:
        messages.success(request, f"Amendment (version {version.number}) withdrawn.")
    return redirect("charters:detail", charter.pk)


@login_required
def version_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """One version exactly as it was put to the committee."""
    charter = visible_charter(request, pk)
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
    charter = visible_charter(request, pk)
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
