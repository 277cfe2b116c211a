"""The record's public face (DESIGN §3, /transparency/…): the cosigned checkpoint, the keys,
proofs and entries. Anonymous, rate-limited, and cacheable: a proof for a fixed size never
changes. Bad input is a 400 with a message, never a 500."""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes, renderer_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from governance.models import AuditEvent
from governance.transparency import merkle, tree
from governance.transparency.integrate import verified_checkpoint
from governance.transparency.keys import log_verifier, witnesses
from governance.transparency.note import b64

MAX_ENTRIES = 1000
IMMUTABLE = "public, max-age=31536000, immutable"


class PlainTextRenderer(BaseRenderer):
    """Lets a client that asks for text/plain (the checkpoint, the keys, a receipt) get it,
    and an error as its message."""

    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        """Text as it is; an error as its message; anything else as JSON."""
        if isinstance(data, dict) and "detail" in data:
            data = data["detail"]
        return (data if isinstance(data, str) else json.dumps(data)).encode()


RENDERERS = [JSONRenderer, PlainTextRenderer]


class TransparencyThrottle(AnonRateThrottle):
    """Per-address limit on the public paths: generous for monitors, a wall for a flood."""

    scope = "transparency"
    rate = "600/min"


class BadRequest(ValueError):
    """A query parameter that is missing or out of range."""


def _int(request: Request, name: str) -> int:
    value = request.query_params.get(name, "")
    if not value.isdigit() or len(value) > 19:
        raise BadRequest(f"'{name}' must be a non-negative integer.")
    return int(value)


def _text(body: str, status: int = 200, cache: str = "no-cache") -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = cache
    return response


def _public(view):
    view = renderer_classes(RENDERERS)(view)
    view = throttle_classes([TransparencyThrottle])(view)
    return permission_classes([AllowAny])(view)


@extend_schema(exclude=True)
@api_view(["GET"])
@_public
def checkpoint(request: Request) -> HttpResponse:
    """The newest checkpoint cosigned by a witness of every sector, as a C2SP signed note."""
    found = verified_checkpoint()
    if found is None:
        return _text("No checkpoint has been cosigned by both sectors' witnesses yet.\n", status=404)
    return _text(found[1].render(), cache="public, max-age=5")


@extend_schema(exclude=True)
@api_view(["GET"])
@_public
def keys(request: Request) -> HttpResponse:
    """The log's and the witnesses' verifier keys, one per line."""
    lines = [f"log {log_verifier().vkey}"] + [f"witness {w.sector} {w.verifier.vkey}" for w in witnesses()]
    return _text("".join(line + "\n" for line in lines), cache="public, max-age=300")


def _bad(error: Exception) -> Response:
    return Response({"detail": str(error)}, status=400)


@extend_schema(exclude=True)
@api_view(["GET"])
@_public
def inclusion(request: Request) -> Response:
    """RFC 9162 inclusion proof of leaf `index` in the tree of `size`."""
    try:
        index, size = _int(request, "index"), _int(request, "size")
        if not index < size <= tree.tree_size():
            raise BadRequest(f"Need index < size <= {tree.tree_size()} (the tree's size).")
        hashes = tree.inclusion_proof(index, size)
    except (BadRequest, merkle.ProofError) as error:
        return _bad(error)
    response = Response({"index": index, "size": size, "hashes": [b64(h) for h in hashes]})
    response["Cache-Control"] = IMMUTABLE
    return response


@extend_schema(exclude=True)
@api_view(["GET"])
@_public
def consistency(request: Request) -> Response:
    """RFC 9162 consistency proof between two sizes, 1 <= old <= new <= the tree's size."""
    try:
        old, new = _int(request, "old"), _int(request, "new")
        if not 1 <= old <= new <= tree.tree_size():
            raise BadRequest(f"Need 1 <= old <= new <= {tree.tree_size()} (the tree's size).")
        hashes = tree.consistency_proof(old, new)
    except (BadRequest, merkle.ProofError) as error:
        return _bad(error)
    response = Response({"old": old, "new": new, "hashes": [b64(h) for h in hashes]})
    response["Cache-Control"] = IMMUTABLE
    return response


@extend_schema(exclude=True)
@api_view(["GET"])
@_public
def entries(request: Request) -> Response:
    """Leaves [start, end): index and commitment for everyone; the event and its salt for those
    who may read the audit log (for anyone else the commitment alone keeps its place public)."""
    try:
        start, end = _int(request, "start"), _int(request, "end")
        if not start < end or end - start > MAX_ENTRIES:
            raise BadRequest(f"Need start < end, at most {MAX_ENTRIES} apart.")
    except BadRequest as error:
        return _bad(error)
    size = tree.tree_size()
    readable = AuditEvent.objects.visible_to(request.user).exists()
    rows = AuditEvent.objects.filter(leaf_index__gte=start, leaf_index__lt=min(end, size)).order_by("leaf_index")
    found = [
        {
            "index": event.leaf_index,
            "commitment": b64(bytes(event.commitment)),
            "event": event.entry() if readable else None,
            "salt": b64(bytes(event.salt)) if readable else None,
        }
        for event in rows
    ]
    response = Response({"entries": found, "tree_size": size})
    response["Cache-Control"] = "private, no-cache" if readable else "public, max-age=60"
    return response
