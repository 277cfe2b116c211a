"""Credit awards per charter and resource (requested, awarded with the reason when partial,
used), and each pool's capacity against what it awarded."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance.pagination import paginate
from governance.public import selectors
from governance.public.cache import public_page

PER_PAGE = 25
POOLS_SHOWN = 12
TOTALS_SHOWN = 50


@public_page
def credits(request: HttpRequest) -> HttpResponse:
    page, query = paginate(request, selectors.awards(), PER_PAGE)
    # The latest groups only: the page stays the same size however long the history.
    totals = list(selectors.award_totals()[: TOTALS_SHOWN + 1])
    return render(
        request,
        "public/credits.html",
        {
            "page": page,
            "query": query,
            "rows": [selectors.award_row(r) for r in page],
            "totals": [selectors.award_total_row(g) for g in totals[:TOTALS_SHOWN]],
            "totals_more": len(totals) > TOTALS_SHOWN,
            "pools": [selectors.pool_row(p) for p in selectors.pools()[:POOLS_SHOWN]],
        },
    )
