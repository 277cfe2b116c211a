"""Pages of progress reports: filing and correcting one, with the evidence-based RAG beside it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from roadmap import permissions, selectors
from roadmap.forms import (
    ReportForm,
)
from roadmap.models import (
    Initiative,
    ProgressReport,
)
from roadmap.services import reports
from roadmap.views.common import body_required, changed, write


@body_required
def report_create(request: HttpRequest, pk: int) -> HttpResponse:
    """File a progress report; the evidence-based RAG is shown beside the form."""
    initiative = get_object_or_404(Initiative.objects.visible_to(request.user), pk=pk)
    if not permissions.may_report(request.user, initiative):
        raise PermissionDenied("Only program managers and the initiative's owner file its reports.")
    form = ReportForm(request.POST or None, initiative=initiative)
    if request.method == "POST" and form.is_valid():
        data = changed(form)
        report = write(form, lambda: reports.submit_report(request.user, initiative=initiative, **data))
        if report is not None:
            messages.success(request, f"Report for {report.period_label} filed.")
            return redirect("roadmap:initiative-detail", initiative.pk)
    return render(
        request,
        "roadmap/report_form.html",
        {"form": form, "initiative": initiative, "evidence": selectors.initiative_evidence(initiative)},
    )


@body_required
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(ProgressReport.objects.visible_to(request.user).select_related("initiative"), pk=pk)
    initiative = report.initiative
    if not permissions.may_report(request.user, initiative):
        raise PermissionDenied("Only program managers and the initiative's owner file its reports.")
    form = ReportForm(request.POST or None, instance=report, initiative=initiative)
    if request.method == "POST" and form.is_valid():
        data = changed(form)
        data.pop("period_start", None)
        if write(form, lambda: reports.update_report(request.user, report, **data)) is not None:
            messages.success(request, "Report saved.")
            return redirect("roadmap:initiative-detail", initiative.pk)
    return render(
        request,
        "roadmap/report_form.html",
        {
            "form": form,
            "initiative": initiative,
            "report": report,
            "evidence": selectors.initiative_evidence(initiative),
        },
    )
