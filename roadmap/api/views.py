"""Viewsets of the roadmap API. Each reads through its model's `visible_to` (everyone in the
body reads the roadmap) and writes through roadmap.services (program managers edit; owners
file their own initiative's reports). Baselines are read-only: only a ballot makes one."""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from governance.api.views import ServiceModelViewSet
from roadmap import permissions, selectors
from roadmap.api.filters import InitiativeFilter, MilestoneFilter
from roadmap.api.serializers import (
    BaselineSerializer,
    ComparedDateSerializer,
    InitiativeSerializer,
    MilestoneSerializer,
    ProgressReportSerializer,
    RebaselineRequestSerializer,
    RoadmapSerializer,
)
from roadmap.models import (
    Baseline,
    BaselineEntry,
    Initiative,
    Milestone,
    ProgressReport,
    RebaselineRequest,
    Roadmap,
)
from roadmap.services import baselines, initiatives, milestones, reports, roadmaps


class PlannerWrites:
    """Program managers and administrators write; everyone in the body reads."""

    def may_create(self, user) -> bool:
        return permissions.may_plan(user)

    def may_change(self, user, obj) -> bool:
        return permissions.may_plan(user)


class RoadmapViewSet(PlannerWrites, ServiceModelViewSet):
    serializer_class = RoadmapSerializer
    filterset_fields = ["committee", "status"]
    ordering_fields = ["version"]
    create_service = staticmethod(roadmaps.create_roadmap)
    update_service = staticmethod(roadmaps.update_roadmap)

    def get_queryset(self):
        return Roadmap.objects.visible_to(self.request.user).prefetch_related(
            "initiatives", "baselines", "rebaseline_requests"
        )

    @extend_schema(request=None, responses={201: RoadmapSerializer})
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        """Draft the next version from this one (same horizon and initiatives)."""
        roadmap = self.get_object()
        draft = roadmaps.draft_next_version(request.user, roadmap)
        draft = self.get_queryset().get(pk=draft.pk)
        return Response(self.get_serializer(draft).data, status=status.HTTP_201_CREATED)


class InitiativeViewSet(PlannerWrites, ServiceModelViewSet):
    serializer_class = InitiativeSerializer
    filterset_class = InitiativeFilter
    ordering_fields = ["title", "national_impact_score", "starts_on"]
    create_service = staticmethod(initiatives.create_initiative)
    update_service = staticmethod(initiatives.update_initiative)

    def get_queryset(self):
        return selectors.with_standing_data(Initiative.objects.visible_to(self.request.user)).order_by("title")


class MilestoneViewSet(PlannerWrites, ServiceModelViewSet):
    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilter
    ordering_fields = ["forecast_date", "baseline_date", "title"]
    create_service = staticmethod(milestones.create_milestone)
    update_service = staticmethod(milestones.update_milestone)

    def get_queryset(self):
        return selectors.schedule_milestones(Milestone.objects.visible_to(self.request.user))


class ProgressReportViewSet(ServiceModelViewSet):
    serializer_class = ProgressReportSerializer
    filterset_fields = ["initiative", "rag", "evidence_rag", "period_start"]
    ordering_fields = ["period_start"]
    create_service = staticmethod(reports.submit_report)
    update_service = staticmethod(reports.update_report)

    def may_create(self, user) -> bool:
        # Which initiative is checked by the service, once the input names it.
        return permissions.may_file_reports(user)

    def may_change(self, user, obj) -> bool:
        return permissions.may_report(user, obj.initiative)

    def get_queryset(self):
        return ProgressReport.objects.visible_to(self.request.user).select_related("initiative")


class BaselineViewSet(viewsets.ReadOnlyModelViewSet):
    """Named, immutable baselines: read-only here, made only when a ballot passes."""

    serializer_class = BaselineSerializer
    filterset_fields = ["roadmap", "kind"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return Baseline.objects.visible_to(self.request.user).prefetch_related(
            Prefetch("entries", queryset=BaselineEntry.objects.order_by("baseline_date", "pk"))
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("with", str, description="Another baseline's id; today's forecast when left out.")
        ],
        responses=ComparedDateSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def compare(self, request, pk=None):
        """This baseline against another one, or against today's forecast, milestone by milestone."""
        baseline = self.get_object()
        other = None
        other_id = request.query_params.get("with", "")
        if other_id and other_id != selectors.FORECAST:
            try:
                other_pk = int(other_id)
            except ValueError:
                raise ValidationError({"with": "A baseline id, or 'forecast'."}) from None
            other = get_object_or_404(Baseline.objects.visible_to(request.user), pk=other_pk)
        return Response(ComparedDateSerializer(selectors.compare(baseline, other), many=True).data)


class RebaselineRequestViewSet(
    PlannerWrites,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Proposals to re-baseline the approved roadmap. A ballot on the roadmap decides each."""

    serializer_class = RebaselineRequestSerializer
    permission_classes = ServiceModelViewSet.permission_classes
    filterset_fields = ["roadmap", "status"]

    def get_queryset(self):
        return RebaselineRequest.objects.visible_to(self.request.user).prefetch_related("entries")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = baselines.propose_rebaseline(self.request.user, data.pop("roadmap"), **data)

    @extend_schema(request=None, responses=RebaselineRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw a pending proposal (not while a ballot decides it)."""
        proposal = self.get_object()
        proposal = baselines.withdraw_rebaseline(request.user, proposal)
        return Response(self.get_serializer(self.get_queryset().get(pk=proposal.pk)).data)
