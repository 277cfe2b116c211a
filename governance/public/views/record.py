"""The record, for anyone: the latest checkpoint both sectors' witnesses cosigned, the
witnesses, how to check a decision yourself, and each published row's receipt."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from governance.exceptions import DomainError
from governance.models import AuditEvent
from governance.public import selectors
from governance.public.cache import public_page
from governance.transparency.integrate import verified_checkpoint
from governance.transparency.keys import witnesses
from governance.transparency.receipts import receipt_for


def _text(body: str, status: int = 200, filename: str = "") -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@public_page
def record(request: HttpRequest) -> HttpResponse:
    found = verified_checkpoint()
    latest = selectors.decision_rows(selectors.decisions().filter(log_index__isnull=False)[:1])
    context = {
        "checkpoint": found[1].render() if found else None,
        "cosigned_size": found[0].size if found else None,
        "cosigned_at": found[0].created_at if found else None,
        "witnesses": witnesses(),
        "example": latest[0] if latest else None,
        "site": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "public/record.html", context)


@public_page
def receipt(request: HttpRequest, index: int) -> HttpResponse:
    """The receipt (C2SP tlog-proof@v1) of the event at leaf `index`. A receipt carries only the
    event's commitment and its proof, both public for every leaf (/transparency/entries), so
    it is served for any leaf; the event itself is public only where its row is."""
    event = AuditEvent.objects.filter(leaf_index=index).first()
    if event is None:
        return _text(f"No event has log index {index} yet.\n", status=404)
    try:
        proof = receipt_for(event)
    except DomainError as error:
        return _text(f"{error.message}\n", status=404)
    return _text(proof.text(), filename=f"receipt-{index}.tlog-proof")


@public_page
def decision_event(request: HttpRequest, pk: int) -> HttpResponse:
    """The closing event of a published decision, exactly the object its commitment covers, so
    that anyone can recompute the commitment (`verify_receipt --event FILE --salt SALT`; the
    salt is on the decision's page). Withheld for a decision on a restricted charter: the
    event names the charter."""
    ballot = get_object_or_404(selectors.decisions(), pk=pk)
    event = selectors.decision_event(ballot)
    if event is None:
        raise Http404("This decision's event is not published, or not in the log yet.")
    response = HttpResponse(json.dumps(event.entry(), ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="decision-{pk}-event.json"'
    return response
