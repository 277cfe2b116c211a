"""Pages of the model provenance registry: the list, a model's card and provenance, and its
W3C PROV-JSON download."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render

from charters.models import RegisteredModel
from charters.prov import model_provenance


@login_required
def model_list(request: HttpRequest) -> HttpResponse:
    models = (
        RegisteredModel.objects.visible_to(request.user).select_related("charter", "parent").order_by("name", "version")
    )
    return render(request, "charters/model_list.html", {"models": models})


@login_required
def model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A model's card and provenance: training data through its agreements, compute, lineage."""
    model = get_object_or_404(
        RegisteredModel.objects.visible_to(request.user).select_related(
            "charter__lead_organization", "parent", "registered_by"
        ),
        pk=pk,
    )
    return render(
        request,
        "charters/model_detail.html",
        {
            "model": model,
            "lineage": model.lineage(),
            "children": model.children.order_by("name", "version"),
            "training_data": model.training_data.select_related("dataset__steward", "agreement"),
            "bias_results": sorted(model.bias_audit_results.items()),
        },
    )


@login_required
def model_prov(request: HttpRequest, pk: int) -> JsonResponse:
    """The model's provenance as a W3C PROV-JSON download."""
    model = get_object_or_404(RegisteredModel.objects.visible_to(request.user), pk=pk)
    response = JsonResponse(
        model_provenance(model, base=request.build_absolute_uri("/")), json_dumps_params={"indent": 2}
    )
    response["Content-Disposition"] = f'attachment; filename="model-{model.pk}-prov.json"'
    return response
