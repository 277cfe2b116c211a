"""Open data: every public list as CSV and JSON (`/public/data/<list>.csv|.json`), the list of
lists with their columns, and the Atom feed of decisions."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed

from governance.public import selectors
from governance.public.cache import public_page
from governance.public.data import LISTS, DataList

FEED_ITEMS = 50


class _Echo:
    def write(self, value: str) -> str:
        return value


def _list(name: str) -> DataList:
    try:
        return LISTS[name]
    except KeyError:
        raise Http404(f"There is no public list called {name!r}; the lists are {', '.join(LISTS)}.") from None


def _cell(value) -> str | int | float | bool | None:
    if isinstance(value, Decimal):
        return str(value)
    return value


def _headers(response: HttpResponse, request: HttpRequest, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    policy = request.build_absolute_uri(reverse("public:policy"))
    response["Link"] = f'<{settings.PUBLIC_DATA_LICENCE_URL}>; rel="license", <{policy}>; rel="describedby"'
    return response


@public_page
def data_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "public/data.html",
        {
            "lists": LISTS.values(),
            "licence": settings.PUBLIC_DATA_LICENCE,
            "licence_url": settings.PUBLIC_DATA_LICENCE_URL,
        },
    )


@public_page
def download_csv(request: HttpRequest, name: str) -> HttpResponse:
    """The list as CSV: one header row of the documented columns, then the rows. The licence and
    the publication policy are in the Link header (a CSV file has no place for them)."""
    data_list = _list(name)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    writer = csv.DictWriter(response, fieldnames=list(data_list.columns), extrasaction="ignore")
    writer.writeheader()
    for row in data_list.rows():
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return _headers(response, request, f"tgb-{name}.csv")


@public_page
def download_json(request: HttpRequest, name: str) -> HttpResponse:
    """The list as JSON, with its licence, publication date, policy and documented columns."""
    data_list = _list(name)
    body = {
        "list": name,
        "title": data_list.title,
        "description": data_list.description,
        "licence": settings.PUBLIC_DATA_LICENCE,
        "licence_url": settings.PUBLIC_DATA_LICENCE_URL,
        "published_at": timezone.now().isoformat(),
        "policy": request.build_absolute_uri(reverse("public:policy")),
        "columns": data_list.columns,
        "rows": [{k: _cell(row.get(k)) for k in data_list.columns} for row in data_list.rows()],
    }
    response = HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/json")
    return _headers(response, request, f"tgb-{name}.json")


@public_page
def decisions_feed(request: HttpRequest) -> HttpResponse:
    """The latest decisions as an Atom feed."""
    rows = selectors.decision_rows(selectors.decisions()[:FEED_ITEMS])
    feed = Atom1Feed(
        title="Decisions of the Technical Governance Body",
        link=request.build_absolute_uri(reverse("public:decisions")),
        description="Closed ballots with their outcome and per-sector tallies.",
        feed_url=request.build_absolute_uri(reverse("public:decisions-feed")),
        feed_guid=request.build_absolute_uri(reverse("public:decisions-feed")),
        language="en",
        author_name="Technical Governance Body",
    )
    for row in rows:
        sectors = "; ".join(
            f"{selectors.SECTORS.get(s, s)}: {c['yes']} yes, {c['no']} no, {c['abstain']} abstain"
            for s, c in row["sectors"].items()
        )
        link = request.build_absolute_uri(row["url"])
        feed.add_item(
            title=f"{row['title']}: {row['outcome_label'].lower()}",
            link=link,
            unique_id=link,
            description=f"{row['committee']} · {row['method_label']} · {sectors}.",
            pubdate=row["closed"],
            updateddate=row["closed"],
            author_name=row["committee"],
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response
