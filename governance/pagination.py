"""Pagination of the pages' long lists, keeping the list's filters in the pager's links."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def paginate(request: HttpRequest, items, per_page: int) -> tuple[Page, str]:
    """The page of `items` the request asks for (`?page=`; a page out of range gives the last),
    and the request's query string without `page`, for the links of templates/includes/pager.html.
    `items` must be ordered, so that pages never overlap."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
