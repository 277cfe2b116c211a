"""Aggregate usage per resource and month, and per sector of the charters' lead organizations:
never a row per person or per charter."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance.pagination import paginate
from governance.public import selectors
from governance.public.cache import public_page

PER_PAGE = 48


@public_page
def usage(request: HttpRequest) -> HttpResponse:
    page, query = paginate(request, selectors.usage_months(), PER_PAGE)
    rows = [selectors.usage_row(m) for m in page]
    return render(
        request,
        "public/usage.html",
        {"page": page, "query": query, "rows": rows, "chart": selectors.usage_chart(rows)},
    )
