"""The public home (also `/` for visitors who are not signed in) and the publication policy."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance.public import selectors
from governance.public.cache import public_page
from governance.public.data import LISTS
from governance.transparency.integrate import verified_checkpoint


@public_page
def home(request: HttpRequest) -> HttpResponse:
    """What the body decided lately, the roadmap in force and the record's state, for anyone."""
    latest = selectors.decision_rows(selectors.decisions()[:5])
    found = verified_checkpoint()
    context = {
        "decisions": latest,
        "roadmap": selectors.roadmap_in_force(),
        "cosigned_size": found[0].size if found else None,
    }
    return render(request, "public/home.html", context)


@public_page
def policy(request: HttpRequest) -> HttpResponse:
    """What is published, what is withheld and why, and under which licence."""
    context = {
        "lists": LISTS.values(),
        "licence": settings.PUBLIC_DATA_LICENCE,
        "licence_url": settings.PUBLIC_DATA_LICENCE_URL,
    }
    return render(request, "public/policy.html", context)
