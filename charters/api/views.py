"""Viewsets of the charters API. Each reads through its model's `visible_to` and writes through
charters.services; each lifecycle step is POST /api/charters/{id}/<transition>/."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from charters import permissions, selectors
from charters.api.serializers import (
    AmendmentSerializer,
    CharterSerializer,
    CharterVersionSerializer,
    DatasetSerializer,
    DataUseAgreementSerializer,
    FieldChangeSerializer,
    RegisteredModelSerializer,
    RenewSerializer,
    ReviewInputSerializer,
    SignatureSerializer,
    StepSerializer,
    TechnicalReviewSerializer,
    TransitionSerializer,
)
from charters.ballots import resolve_ballot
from charters.choices import BOTH_SECTOR_STEPS, CHARTER_TRANSITIONS
from charters.filters import CharterFilter
from charters.models import Charter, Dataset, DataUseAgreement, RegisteredModel, TechnicalReview
from charters.prov import model_provenance
from charters.services import agreements, amendments, charters, lifecycle, provenance, reviews
from charters.versions import diff
from governance.api.views import ServiceModelViewSet

ACTION_PERMISSIONS = [IsAuthenticated]  # the services decide who may take each step


def _update_charter(actor, charter, **data):
    return charters.update_charter(actor, charter, **data)


class CharterViewSet(ServiceModelViewSet):
    """Project charters. Writes: drafting and editing by staff of the lead organization; each
    lifecycle step by whoever charters.choices.CHARTER_TRANSITIONS names."""

    serializer_class = CharterSerializer
    filterset_class = CharterFilter
    ordering_fields = ["created_at", "updated_at", "title", "status"]
    create_service = staticmethod(charters.create_charter)
    update_service = staticmethod(_update_charter)

    def get_queryset(self):
        return (
            Charter.objects.visible_to(self.request.user)
            .for_listing()
            .prefetch_related("data_use_agreements", "resources")
        )

    def may_create(self, user) -> bool:
        return permissions.may_draft(user)

    def may_change(self, user, obj) -> bool:
        return permissions.may_edit(user, obj)

    def _step(self, request, name: str) -> Response:
        charter = self.get_object()
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        service = lifecycle.TRANSITION_SERVICES[name]
        kwargs = {}
        if name in ("approve", "reject"):
            kwargs["ballot"] = resolve_ballot(data.validated_data["ballot"])
        elif name in lifecycle.REASONED_STEPS:
            kwargs["reason"] = data.validated_data["reason"]
        before = charter.status
        charter = service(request.user, charter, **kwargs)
        fresh = self.get_queryset().get(pk=charter.pk)
        # A both-sector step asked for by one co-chair is recorded and waits for the others: 202.
        accepted = name in BOTH_SECTOR_STEPS and fresh.status == before
        return Response(
            self.get_serializer(fresh).data, status=status.HTTP_202_ACCEPTED if accepted else status.HTTP_200_OK
        )

    def _transition_action(name: str):  # builds one action per lifecycle step, at class creation
        transition = CHARTER_TRANSITIONS[name]

        @extend_schema(
            request=TransitionSerializer,
            responses=CharterSerializer,
            summary=f"{transition.label}: {', '.join(transition.sources)} → {transition.target}",
            description=f"Taken by {transition.who}. An illegal step answers 409 naming the legal ones.",
        )
        def step(self, request, pk=None):
            return self._step(request, name)

        step.__name__ = name
        return action(detail=True, methods=["post"], permission_classes=ACTION_PERMISSIONS, url_path=name)(step)

    submit = _transition_action("submit")
    start_review = _transition_action("start_review")
    approve = _transition_action("approve")
    reject = _transition_action("reject")
    request_revision = _transition_action("request_revision")
    activate = _transition_action("activate")
    suspend = _transition_action("suspend")
    resume = _transition_action("resume")
    complete = _transition_action("complete")
    terminate = _transition_action("terminate")
    del _transition_action

    @extend_schema(responses=CharterVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request, pk=None):
        """Every version put to the committee, with its technical reviews."""
        charter = self.get_object()
        versions = charter.versions.prefetch_related(
            Prefetch("reviews", queryset=TechnicalReview.objects.order_by("kind"))
        ).order_by("number")
        return Response(CharterVersionSerializer(versions, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, description="Version number to compare from"),
            OpenApiParameter("to", int, description="Version number to compare to"),
        ],
        responses=FieldChangeSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """The fields that differ between two versions."""
        charter = self.get_object()
        try:
            numbers = int(request.query_params["from"]), int(request.query_params["to"])
        except (KeyError, ValueError) as error:
            raise ValidationError({"from": "Give the version numbers to compare as ?from=N&to=M."}) from error
        versions = {v.number: v for v in charter.versions.filter(number__in=numbers)}
        missing = [n for n in numbers if n not in versions]
        if missing:
            raise ValidationError({"from": f"This charter has no version {missing[0]}."})
        changes = diff(versions[numbers[0]].content, versions[numbers[1]].content)
        return Response(FieldChangeSerializer(changes, many=True).data)

    @extend_schema(request=ReviewInputSerializer, responses=TechnicalReviewSerializer)
    @action(detail=True, methods=["post"], permission_classes=ACTION_PERMISSIONS)
    def reviews(self, request, pk=None):
        """Record a technical review of the version under review."""
        charter = self.get_object()
        data = ReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = reviews.record_review(request.user, charter, **data.validated_data)
        return Response(TechnicalReviewSerializer(review).data, status=201)

    @extend_schema(request=AmendmentSerializer, responses=CharterVersionSerializer)
    @action(detail=True, methods=["post"], permission_classes=ACTION_PERMISSIONS)
    def amend(self, request, pk=None):
        """Propose an amendment: a new version, in force once its own ballot passes."""
        charter = self.get_object()
        data = AmendmentSerializer(instance=charter, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        version = amendments.propose_amendment(request.user, charter, **data.validated_data)
        return Response(CharterVersionSerializer(version).data, status=201)

    @extend_schema(request=None, responses=CharterVersionSerializer)
    @action(detail=True, methods=["post"], permission_classes=ACTION_PERMISSIONS)
    def withdraw_amendment(self, request, pk=None):
        """Take back the amendment before the committee."""
        version = amendments.withdraw_amendment(request.user, self.get_object())
        return Response(CharterVersionSerializer(version).data)

    @extend_schema(request=StepSerializer, responses=CharterSerializer)
    @action(detail=True, methods=["post"], permission_classes=ACTION_PERMISSIONS)
    def withdraw_step(self, request, pk=None):
        """Take back your own request to suspend, resume or terminate the charter."""
        charter = self.get_object()
        if not permissions.may_take_step(request.user, charter, "suspend"):  # the co-chairs, who ask for these
            raise PermissionDenied(f"Only the co-chairs of {charter.committee} ask for, and withdraw, these steps.")
        data = StepSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        charter = lifecycle.withdraw_step_consent(request.user, charter, data.validated_data["step"])
        return Response(self.get_serializer(self.get_queryset().get(pk=charter.pk)).data)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def readiness(self, request, pk=None):
        """What still stands between the charter and a ballot, and the portal's own
        data-sovereignty findings on the version under review."""
        charter = self.get_object()
        version = selectors.pending_version(charter)
        return Response(
            {
                "ballot_problems": selectors.ballot_problems(charter),
                "version": version.number if version else None,
                "sovereignty_findings": selectors.sovereignty_findings(version.content) if version else {},
            }
        )


class DatasetViewSet(ServiceModelViewSet):
    serializer_class = DatasetSerializer
    filterset_fields = ["steward", "jurisdiction", "classification"]
    ordering_fields = ["name"]
    create_service = staticmethod(agreements.create_dataset)
    update_service = staticmethod(agreements.update_dataset)

    def get_queryset(self):
        return Dataset.objects.visible_to(self.request.user).select_related("steward")

    def may_create(self, user) -> bool:
        return permissions.may_add_datasets(user)

    def may_change(self, user, obj) -> bool:
        return permissions.may_catalogue(user, obj.steward)


class DataUseAgreementViewSet(ServiceModelViewSet):
    """Data use agreements: drafted by a party, signed by each party, renewed when they expire."""

    serializer_class = DataUseAgreementSerializer
    filterset_fields = ["parties", "datasets", "charters"]
    ordering_fields = ["title", "expires_on"]
    create_service = staticmethod(agreements.create_agreement)
    update_service = staticmethod(agreements.update_agreement)

    def get_queryset(self):
        return DataUseAgreement.objects.visible_to(self.request.user).with_signatures().prefetch_related("charters")

    def may_create(self, user) -> bool:
        return permissions.may_draft_agreement(user)

    def may_change(self, user, obj) -> bool:
        return permissions.may_change_agreement(user, obj)

    @extend_schema(request=None, responses=SignatureSerializer)
    @action(detail=True, methods=["post"], permission_classes=ACTION_PERMISSIONS)
    def sign(self, request, pk=None):
        """Sign the agreement for your own organization."""
        signature = agreements.sign_agreement(request.user, self.get_object())
        return Response(SignatureSerializer(signature).data, status=201)

    @extend_schema(request=RenewSerializer, responses=DataUseAgreementSerializer)
    @action(detail=True, methods=["post"], permission_classes=ACTION_PERMISSIONS)
    def renew(self, request, pk=None):
        """Extend the agreement; every party signs the renewal."""
        agreement = self.get_object()  # 404 before validation: the body says nothing of other objects
        data = RenewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agreement = agreements.renew_agreement(request.user, agreement, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=agreement.pk)).data)


def _update_model(actor, model, **data):
    return provenance.update_model_card(actor, model, **data)


class RegisteredModelViewSet(ServiceModelViewSet):
    """The model provenance registry."""

    serializer_class = RegisteredModelSerializer
    filterset_fields = ["charter", "parent", "name"]
    ordering_fields = ["name", "version", "trained_at"]
    create_service = staticmethod(provenance.register_model)
    update_service = staticmethod(_update_model)

    def get_queryset(self):
        return (
            RegisteredModel.objects.visible_to(self.request.user)
            .select_related("charter__lead_organization", "parent", "registered_by")
            .prefetch_related("training_data")
        )

    def may_create(self, user) -> bool:
        return permissions.may_register_models(user)

    def may_change(self, user, obj) -> bool:
        return permissions.may_change_model(user, obj)

    def retrieve(self, request, *args, **kwargs):
        model = self.get_object()
        data = self.get_serializer(model).data
        data["lineage"] = [ancestor.pk for ancestor in model.lineage()]
        return Response(data)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def prov(self, request, pk=None):
        """The model's provenance as a W3C PROV-JSON document."""
        model = self.get_object()  # an id that is not a number is a 404 here, as on the detail
        document = model_provenance(model, base=request.build_absolute_uri("/"))
        response = Response(document)
        response["Content-Disposition"] = f'inline; filename="model-{model.pk}-prov.json"'
        return response
