"""Standard operating procedures: the list, drafting versions and putting them to a ballot."""

from __future__ import annotations

import difflib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from governance import permissions, services, web
from governance.choices import (
    BallotStatus,
    SOPVersionStatus,
    SubjectType,
)
from governance.exceptions import DomainError
from governance.forms import (
    SOPForm,
    SOPVersionForm,
)
from governance.models import SOP, Ballot


@login_required
def sop_list(request: HttpRequest) -> HttpResponse:
    sops = SOP.objects.visible_to(request.user).select_related("committee").prefetch_related("versions")
    return render(
        request,
        "governance/sop_list.html",
        {"sops": sops, "can_write": permissions.managed_committees(request.user).exists()},
    )


@login_required
def sop_create(request: HttpRequest) -> HttpResponse:
    committees = permissions.managed_committees(request.user)
    if not committees.exists():
        raise PermissionDenied("Only the co-chairs and the secretary write procedures.")
    form = SOPForm(request.POST or None, committees=committees)
    if request.method == "POST" and form.is_valid():
        try:
            sop = services.create_sop(request.user, **form.cleaned_data)
        except ValidationError as error:
            web.add_service_errors(form, error)
        else:
            messages.success(request, "The procedure is drafted as version 1; put it to a ballot to adopt it.")
            return redirect("sops:detail", sop.pk)
    return render(request, "governance/sop_form.html", {"form": form})


@login_required
def sop_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sop = get_object_or_404(SOP.objects.visible_to(request.user).select_related("committee"), pk=pk)
    versions = list(sop.versions.order_by("number"))
    ballots = {}
    for ballot in Ballot.objects.visible_to(request.user).filter(
        subject_type=SubjectType.SOP, subject_id__in=[v.pk for v in versions]
    ):
        ballots.setdefault(ballot.subject_id, []).append(ballot)
    previous = None
    rows = []
    for version in versions:
        diff = ""
        if previous is not None:
            diff = "\n".join(
                difflib.unified_diff(
                    previous.body.splitlines(),
                    version.body.splitlines(),
                    fromfile=f"version {previous.number}",
                    tofile=f"version {version.number}",
                    lineterm="",
                )
            )
        version_ballots = sorted(ballots.get(version.pk, []), key=lambda b: b.created_at)
        rows.append(
            {
                "version": version,
                "diff": diff,
                "ballots": version_ballots,
                "on_ballot": any(b.status in (BallotStatus.DRAFT, BallotStatus.OPEN) for b in version_ballots),
            }
        )
        previous = version
    rows.reverse()
    can_write = permissions.can_manage_committee(request.user, sop.committee)
    draft = next((r for r in rows if r["version"].status == SOPVersionStatus.DRAFT), None)
    return render(
        request,
        "governance/sop_detail.html",
        {
            "sop": sop,
            "rows": rows,
            "adopted": next((v for v in versions if v.status == SOPVersionStatus.ADOPTED), None),
            "draft": draft,
            "can_write": can_write,
            "version_form": SOPVersionForm(
                initial={"body": draft["version"].body if draft else (versions[-1].body if versions else "")}
            ),
        },
    )


def _sop_act(request: HttpRequest, pk: int, act, success: str, to_ballot: bool = False) -> HttpResponse:
    sop = get_object_or_404(SOP.objects.visible_to(request.user), pk=pk)
    try:
        result = act(sop)
    except web.REFUSALS as error:
        web.refuse(request, error)
        return redirect("sops:detail", sop.pk)
    messages.success(request, success)
    if to_ballot:
        return redirect("ballots:detail", result.pk)
    return redirect("sops:detail", sop.pk)


@login_required
@require_POST
def sop_version(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the draft version's text, or start the next version when there is no draft."""
    form = SOPVersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A version needs its text.")
        return redirect("sops:detail", pk)
    data = form.cleaned_data

    def save(sop):
        draft = sop.versions.filter(status=SOPVersionStatus.DRAFT).first()
        if draft is None:
            return services.draft_sop_version(request.user, sop, **data)
        return services.update_sop_version(request.user, draft, **data)

    return _sop_act(request, pk, save, "The draft version is saved.")


@login_required
@require_POST
def sop_ballot(request: HttpRequest, pk: int) -> HttpResponse:
    def propose(sop):
        draft = sop.versions.filter(status=SOPVersionStatus.DRAFT).first()
        if draft is None:
            raise DomainError("There is no draft version to put to a ballot.")
        return services.put_sop_version_to_ballot(request.user, draft)

    return _sop_act(request, pk, propose, "A ballot on the draft version is prepared; a co-chair opens it.", True)
