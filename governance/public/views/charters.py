"""Published charters: public fields; a restricted charter shows only that it exists, who
leads it and its decisions."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from governance.choices import SubjectType
from governance.pagination import paginate
from governance.public import selectors
from governance.public.cache import public_page

PER_PAGE = 25


@public_page
def charter_list(request: HttpRequest) -> HttpResponse:
    page, query = paginate(request, selectors.charters(), PER_PAGE)
    rows = [selectors.charter_row(c) for c in page]
    return render(request, "public/charter_list.html", {"page": page, "query": query, "rows": rows})


@public_page
def charter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    charter = get_object_or_404(selectors.charters(), pk=pk)
    ballots = selectors.decisions().filter(subject_type=SubjectType.CHARTER, subject_id=charter.pk)
    awards = [selectors.award_row(r) for r in selectors.awards().filter(charter=charter)]
    return render(
        request,
        "public/charter_detail.html",
        {
            "row": selectors.charter_row(charter),
            "decisions": selectors.decision_rows(ballots),
            "awards": awards,
            "totals": [selectors.award_total_row(g) for g in selectors.award_totals(charter)],
        },
    )
