"""Substitutes' pages: a member sends a substitute for one ballot, one meeting or a period, sees
the substitutions they named and hold, and withdraws one before the substitute votes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from governance import services, web
from governance.forms import SubstitutionForm
from governance.models import Ballot, Substitution


@login_required
def substitutes(request: HttpRequest) -> HttpResponse:
    """The form to send a substitute, and the person's substitutions, named and held."""
    user = request.user
    initial = {}
    ballot_id = request.GET.get("ballot", "")
    if ballot_id.isdigit():
        ballot = Ballot.objects.visible_to(user).filter(pk=int(ballot_id)).first()
        if ballot is not None:
            initial = {"committee": ballot.committee_id, "scope": "ballot", "ballot": ballot.pk}
    form = SubstitutionForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            substitution = services.name_substitute(user, **form.cleaned_data)
        except web.REFUSALS as error:
            web.add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{substitution.substitute} will vote in your seat ({substitution.describe_scope()}). "
                "Your sector's co-chair is told.",
            )
            return redirect("substitutes")
    rows = Substitution.objects.visible_to(user).select_related(
        "member", "substitute", "committee", "ballot", "meeting", "substitute_organization"
    )
    return render(
        request,
        "governance/substitutes.html",
        {
            "form": form,
            "seated": form.fields["committee"].queryset.exists(),
            "named": [s for s in rows if s.member_id == user.pk],
            "held": [s for s in rows if s.substitute_id == user.pk],
        },
    )


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    substitution = get_object_or_404(Substitution.objects.visible_to(request.user), pk=pk)
    try:
        services.withdraw_substitution(request.user, substitution)
    except web.REFUSALS as error:
        web.refuse(request, error)
    else:
        messages.success(request, f"Withdrawn: {substitution.substitute} no longer votes in your seat.")
    return redirect("substitutes")
