"""The page that records a technical review of the version before the committee."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from charters import permissions, selectors
from charters.choices import REVIEW_CHECKLISTS, ReviewKind
from charters.forms import ReviewForm
from charters.services import reviews
from charters.views.charters import visible_charter
from governance.exceptions import DomainError
from governance.web import add_service_errors, refuse


@login_required
def review_form(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Record a technical review of the version under review."""
    charter = visible_charter(request, pk)
    if kind not in ReviewKind.values:
        raise Http404("No such review.")
    if not permissions.may_review(request.user, charter):
        raise PermissionDenied("Reviewers are members of the charter's committee from organizations not party to it.")
    try:
        version = reviews.review_version(charter)
    except DomainError as error:
        refuse(request, error)
        return redirect("charters:detail", charter.pk)
    existing = version.reviews.filter(kind=kind).first()
    initial = {}
    if existing:
        initial = {"verdict": existing.verdict, "notes": existing.notes}
        initial.update({f"item_{item['key']}": item["met"] for item in existing.checklist})
    form = ReviewForm(request.POST or None, kind=kind, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            reviews.record_review(
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
    findings = selectors.sovereignty_findings(version.content) if kind == ReviewKind.DATA_SOVEREIGNTY else {}
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
