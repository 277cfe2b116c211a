"""The auditors' page of the record: the events newest first with filters, each with its receipt,
the checkpoint and each witness's cosignature, a "verify now" button, and a CSV export."""

from __future__ import annotations

import csv
import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from governance.models import AuditEvent
from governance.pagination import paginate
from governance.transparency.integrate import verified_checkpoint
from governance.transparency.keys import witnesses
from governance.transparency.note import b64
from governance.transparency.verify import verify_log

CSV_LIMIT = 100_000
CSV_HEADER = ["id", "leaf_index", "created_at", "actor", "verb", "object_type", "object_id", "object", "commitment"]


# Each event links to the page that shows its object…
OBJECT_PAGES = {
    "governance.organization": "organization-detail",
    "governance.committee": "committee-detail",
    "governance.ballot": "ballots:detail",
    "governance.meeting": "meetings:detail",
    "governance.sop": "sops:detail",
    "charters.charter": "charters:detail",
    "charters.datauseagreement": "charters:agreement-detail",
    "charters.registeredmodel": "charters:model-detail",
    "compute.creditrequest": "compute:request-detail",
    "compute.creditaccount": "compute:account-detail",
    "compute.creditpool": "compute:pool-detail",
    "roadmap.roadmap": "roadmap:roadmap-detail",
    "roadmap.initiative": "roadmap:initiative-detail",
    "roadmap.milestone": "roadmap:milestone-detail",
}
# …and a vote or a recusal shows on its ballot's page, a seat on its committee's.
SHOWN_ON_ANOTHER = {
    "governance.vote": ("ballots:detail", "ballot"),
    "governance.recusal": ("ballots:detail", "ballot"),
    "governance.membership": ("committee-detail", "committee"),
}


def _pk(value) -> int | None:
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() else None


def object_url(event: AuditEvent) -> str | None:
    """The page of the event's object, where there is one (the page applies its own read rules)."""
    if event.object_type in SHOWN_ON_ANOTHER:
        name, key = SHOWN_ON_ANOTHER[event.object_type]
        pk = _pk(((event.changes or {}).get("after") or {}).get(key))
        return reverse(name, args=[pk]) if pk else None
    name, pk = OBJECT_PAGES.get(event.object_type), _pk(event.object_id)
    return reverse(name, args=[pk]) if name and pk else None


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
    for event in page:
        event.url = object_url(event)
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
