"""The auditors' page of the record: the events newest first with filters, each with its receipt,
the checkpoint and each witness's cosignature, a "verify now" button, and a CSV export."""

from __future__ import annotations

import csv
import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from governance.models import AuditEvent
from governance.pagination import paginate
from governance.transparency.integrate import verified_checkpoint
from governance.transparency.keys import witnesses
from governance.transparency.note import b64
from governance.transparency.verify import verify_log

CSV_LIMIT = 100_000
CSV_HEADER = ["id", "leaf_index", "created_at", "actor", "verb", "object_type", "object_id", "object", "commitment"]


def _auditable(request: HttpRequest):
    events = AuditEvent.objects.visible_to(request.user)
    if not request.user.has_perm("governance.view_auditevent"):
        raise PermissionDenied("Only auditors, co-chairs and secretaries read the audit log.")
    return events


def _date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def filtered(request: HttpRequest):
    """The events the filters of the query string select (actor, object, verb, from, to)."""
    events = _auditable(request).order_by("-id")
    params = request.GET
    if params.get("actor"):
        events = events.filter(actor_repr=params["actor"])
    if params.get("object_type"):
        events = events.filter(object_type=params["object_type"])
    if params.get("object_id"):
        events = events.filter(object_id=params["object_id"])
    if params.get("verb"):
        events = events.filter(verb=params["verb"])
    if start := _date(params.get("from", "")):
        events = events.filter(created_at__date__gte=start)
    if end := _date(params.get("to", "")):
        events = events.filter(created_at__date__lte=end)
    return events


@login_required
def audit_log(request: HttpRequest, report=None) -> HttpResponse:
    """The events newest first, 50 a page, with the cosigned checkpoint beside them."""
    page, query = paginate(request, filtered(request), 50)
    found = verified_checkpoint()
    cosigned_size = found[0].size if found else 0
    context = {
        "page": page,
        "query": query,
        "filters": request.GET,
        "checkpoint": found[1].render() if found else None,
        "cosigned_size": cosigned_size,
        "witnesses": witnesses(),
        "report": report,
        "verbs": _auditable(request).order_by("verb").values_list("verb", flat=True).distinct(),
    }
    return render(request, "governance/audit_log.html", context)


@login_required
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Run the whole verification now and show its result on the page."""
    _auditable(request)
    return audit_log(request, report=verify_log())


@login_required
def audit_csv(request: HttpRequest) -> HttpResponse:
    """The filtered events as CSV, with their leaf index and commitment."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["id", "leaf_index", "created_at", "actor", "verb", "object_type", "object_id", "object", "commitment"]
    )
    for event in filtered(request)[:CSV_LIMIT].iterator(chunk_size=2000):
        writer.writerow(
            [
                event.pk,
                "" if event.leaf_index is None else event.leaf_index,
                event.created_at.isoformat(),
                event.actor_repr,
                event.verb,
                event.object_type,
                event.object_id,
                event.object_repr,
                b64(bytes(event.commitment)),
            ]
        )
    return response
