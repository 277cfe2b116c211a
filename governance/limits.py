"""Limits at the edge: how large a request body may be, how deep its JSON may nest, how many
items one request may carry. A request past a limit is refused before anything parses it, so
one client cannot make a worker hold a 60 MB body or recurse 20,000 levels deep."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.html import format_html

from governance import values

# Strings (escapes included) are skipped when counting brackets: a "[" inside one nests nothing.
_JSON_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def max_request_bytes(request: HttpRequest) -> int:
    """The body allowance of this request: MAX_REQUEST_BYTES, or the larger allowance of the
    few URLs that take big bodies (report uploads, push ingest), named in LARGE_BODY_URLS."""
    limit = settings.MAX_REQUEST_BYTES
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return limit
    setting = settings.LARGE_BODY_URLS.get(match.view_name)
    return max(limit, getattr(settings, setting)) if setting else limit


def refusal(request: HttpRequest, status: int, title: str, message: str, code: str) -> HttpResponse:
    """A refusal in the caller's language: JSON for the API, a small page otherwise.

    The page is rendered without the site's base template: this runs before the session and
    authentication middleware, so nothing that needs `request.user` may run.
    """
    if request.path_info.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        return JsonResponse({"detail": message, "code": code}, status=status)
    page = format_html(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title></head>'
        '<body><main><h1>{}</h1><p>{}</p><p><a href="/">Back to the home page</a></p></main></body></html>',
        title,
        title,
        message,
    )
    return HttpResponse(page, status=status)


class RequestSizeLimitMiddleware:
    """Answers 413 when a body's declared length exceeds its allowance, before it is read.

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE protects only form parsing, and the API's parsers
    read the stream whole; a declared length is what every server passes on, and the WSGI
    input never yields more than it (Django wraps it in a LimitedStream).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isascii() or not declared.isdigit():
            return refusal(request, 400, "Bad request", "The Content-Length header is not a number.", "bad_length")
        limit = max_request_bytes(request)
        if int(declared) > limit:
            return refusal(
                request,
                413,
                "Request too large",
                f"The request body is larger than the {limit:,} bytes this address accepts.",
                "too_large",
            )
        return self.get_response(request)


def json_depth(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest, counted without recursion."""
    depth = deepest = 0
    for match in _JSON_STRING_OR_BRACKET.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif piece in ("]", "}"):
            depth -= 1
    return deepest


def loads(text: str | bytes, *, max_depth: int | None = None, allow_nan: bool = False):
    """json.loads with the portal's limits: nesting no deeper than JSON_MAX_DEPTH, NaN and
    infinities refused (they are no JSON), and no string holding NUL or a lone surrogate (no
    column can store one, and an error message quoting one could not be sent). Raises
    ValueError with a human message. `allow_nan` takes NaN and Infinity where a format says
    they mean something (a pushed metric sample: a missing reading)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    limit = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    if json_depth(text) > limit:
        raise ValueError(f"The JSON nests deeper than {limit} levels.")

    def no_constants(name: str):
        raise ValueError(f"{name} is not a JSON number.")

    data = json.loads(text) if allow_nan else json.loads(text, parse_constant=no_constants)
    try:
        values.storable_json(data)
    except ValidationError as error:
        raise ValueError(error.messages[0]) from error
    return data


def check_list_size(values, *, limit: int | None = None, what: str = "items") -> None:
    """Refuse a list longer than MAX_LIST_ITEMS (or `limit`): one request, bounded work."""
    limit = settings.MAX_LIST_ITEMS if limit is None else limit
    if values is not None and len(values) > limit:
        raise ValidationError(f"At most {limit:,} {what} may be given at once.", code="too_many")
