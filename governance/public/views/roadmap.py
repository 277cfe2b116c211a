"""The roadmap at a glance: the approved version in force, its initiatives and milestones
with baseline and forecast."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance.pagination import paginate
from governance.public import selectors
from governance.public.cache import public_page

PER_PAGE = 50


@public_page
def roadmap(request: HttpRequest) -> HttpResponse:
    page, query = paginate(request, selectors.milestones(), PER_PAGE)
    return render(
        request,
        "public/roadmap.html",
        {
            "roadmap": selectors.roadmap_in_force(),
            "page": page,
            "query": query,
            "rows": [selectors.milestone_row(m) for m in page],
        },
    )
