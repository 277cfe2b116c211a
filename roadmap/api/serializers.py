"""Serializers of the roadmap API (/api/roadmaps/, /api/initiatives/, /api/milestones/,
/api/progress-reports/, and the baselines and re-baselining proposals they need)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from charters.models import Charter
from governance.api.base import CleanModelSerializer, StrictPrimaryKeyRelatedField
from governance.models import Organization
from roadmap import selectors
from roadmap.choices import RebaselineStatus
from roadmap.models import (
    Baseline,
    BaselineEntry,
    Initiative,
    Milestone,
    ProgressReport,
    RebaselineEntry,
    RebaselineRequest,
    Roadmap,
    Theme,
)
from roadmap.services.milestones import MILESTONE_FIELDS


class BaselineSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Baseline
        fields = ["id", "name", "kind", "created_at"]
        read_only_fields = fields


class RoadmapSerializer(CleanModelSerializer):
    initiatives = StrictPrimaryKeyRelatedField(many=True, queryset=Initiative.objects.all(), required=False)
    approval_ballot = serializers.IntegerField(source="approval_ballot_id", read_only=True, allow_null=True)
    baselines = BaselineSummarySerializer(many=True, read_only=True)
    pending_rebaseline = serializers.SerializerMethodField()

    class Meta:
        model = Roadmap
        fields = [
            "id",
            "committee",
            "version",
            "title",
            "summary",
            "starts_on",
            "ends_on",
            "status",
            "initiatives",
            "approved_at",
            "approval_ballot",
            "superseded_at",
            "baselines",
            "pending_rebaseline",
            "created_at",
        ]
        read_only_fields = ["version", "status", "approved_at", "superseded_at", "created_at"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_pending_rebaseline(self, roadmap: Roadmap) -> int | None:
        pending = [r for r in roadmap.rebaseline_requests.all() if r.status == RebaselineStatus.PROPOSED]
        return pending[0].pk if pending else None


class BaselineEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = BaselineEntry
        fields = [
            "milestone",
            "initiative_title",
            "title",
            "baseline_date",
            "forecast_date",
            "actual_date",
            "status",
            "percent_complete",
        ]
        read_only_fields = fields


class BaselineSerializer(serializers.ModelSerializer):
    ballot = serializers.IntegerField(source="ballot_id", read_only=True)
    request = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    entries = BaselineEntrySerializer(many=True, read_only=True)

    class Meta:
        model = Baseline
        fields = ["id", "roadmap", "name", "kind", "reason", "ballot", "request", "created_at", "created_by", "entries"]
        read_only_fields = fields


class ComparedDateSerializer(serializers.Serializer):
    milestone = serializers.IntegerField(source="milestone_id")
    initiative = serializers.CharField()
    title = serializers.CharField()
    before = serializers.DateField(allow_null=True)
    after = serializers.DateField(allow_null=True)
    delta_days = serializers.IntegerField(allow_null=True)
    change = serializers.CharField()


class RebaselineEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = RebaselineEntry
        fields = ["milestone", "previous_date", "proposed_date"]
        read_only_fields = fields


class RebaselineRequestSerializer(CleanModelSerializer):
    dates = serializers.DictField(
        child=serializers.DateField(),
        write_only=True,
        required=False,
        help_text="Proposed date per milestone id; any other open milestone is proposed at its forecast, "
        "any other done one at its current committed date.",
    )
    entries = RebaselineEntrySerializer(many=True, read_only=True)
    ballot = serializers.IntegerField(source="ballot_id", read_only=True, allow_null=True)

    class Meta:
        model = RebaselineRequest
        fields = [
            "id",
            "roadmap",
            "name",
            "reason",
            "dates",
            "status",
            "proposed_by",
            "created_at",
            "decided_at",
            "ballot",
            "entries",
        ]
        read_only_fields = ["status", "proposed_by", "created_at", "decided_at"]
        validators = []

    def validate_dates(self, value: dict) -> dict[int, object]:
        try:
            return {int(key): date for key, date in value.items()}
        except ValueError as error:
            raise serializers.ValidationError("Keys are milestone ids.") from error

    def validate(self, attrs):
        dates = attrs.pop("dates", None)
        attrs = super().validate(attrs)
        if dates is not None:
            attrs["dates"] = dates
        return attrs


class StandingMixin:
    """Computes the rollup and evidence of every initiative on a page in one pass."""

    def standing(self, initiative: Initiative) -> selectors.InitiativeStanding:
        cache = self.context.setdefault("_standings", {})
        if initiative.pk not in cache:
            parent = getattr(self, "parent", None)
            batch = list(parent.instance) if isinstance(parent, serializers.ListSerializer) else [initiative]
            if not all(hasattr(i, "schedule") for i in batch):
                batch = list(selectors.with_standing_data(Initiative.objects.filter(pk__in=[i.pk for i in batch])))
            cache.update(selectors.standings(batch))
        return cache[initiative.pk]


class InitiativeSerializer(StandingMixin, CleanModelSerializer):
    themes = serializers.SlugRelatedField(many=True, slug_field="slug", queryset=Theme.objects.all(), required=False)
    sponsors = StrictPrimaryKeyRelatedField(many=True, queryset=Organization.objects.all(), required=False)
    charters = StrictPrimaryKeyRelatedField(many=True, queryset=Charter.objects.all(), required=False)
    roadmaps = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    sponsor_sectors = serializers.SerializerMethodField()
    slippage = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()
    latest_report = serializers.SerializerMethodField()

    class Meta:
        model = Initiative
        fields = [
            "id",
            "title",
            "summary",
            "national_impact_score",
            "priority",
            "themes",
            "sponsors",
            "sponsor_sectors",
            "charters",
            "owner",
            "starts_on",
            "report_cadence",
            "roadmaps",
            "slippage",
            "evidence",
            "latest_report",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            # Only charters the caller can see can be linked.
            fields["charters"].child_relation.queryset = Charter.objects.visible_to(request.user)
        return fields

    def get_sponsor_sectors(self, initiative: Initiative) -> list[str]:
        return sorted({organization.sector for organization in initiative.sponsors.all()})

    @extend_schema_field(serializers.DictField())
    def get_slippage(self, initiative: Initiative) -> dict:
        return self.standing(initiative).rollup.as_dict()

    @extend_schema_field(serializers.DictField())
    def get_evidence(self, initiative: Initiative) -> dict:
        return self.standing(initiative).evidence.as_dict()

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_latest_report(self, initiative: Initiative) -> dict | None:
        report = selectors.latest_report(initiative)
        if report is None:
            return None
        return {
            "id": report.pk,
            "period_start": report.period_start,
            "rag": report.rag,
            "evidence_rag": report.evidence_rag,
        }


class MilestoneSerializer(CleanModelSerializer):
    depends_on = StrictPrimaryKeyRelatedField(many=True, queryset=Milestone.objects.all(), required=False)
    slippage_days = serializers.IntegerField(read_only=True, allow_null=True)
    dependency_conflicts = serializers.SerializerMethodField()
    in_baseline = serializers.SerializerMethodField()

    class Meta:
        model = Milestone
        fields = [
            "id",
            *MILESTONE_FIELDS,
            "depends_on",
            "slippage_days",
            "dependency_conflicts",
            "in_baseline",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_dependency_conflicts(self, milestone: Milestone) -> list[int]:
        """Ids of the dependencies forecast later than this milestone (flagged)."""
        return [dep.pk for dep in milestone.dependency_conflicts()]

    def get_in_baseline(self, milestone: Milestone) -> bool:
        if hasattr(milestone, "in_baseline"):
            return milestone.in_baseline
        return milestone.baseline_entries.exists()


class ProgressReportSerializer(CleanModelSerializer):
    period = serializers.CharField(source="period_label", read_only=True)
    disagrees = serializers.BooleanField(read_only=True)

    class Meta:
        model = ProgressReport
        fields = [
            "id",
            "initiative",
            "period_start",
            "period_end",
            "period",
            "rag",
            "summary",
            "risks",
            "issues",
            "next_steps",
            "evidence_rag",
            "evidence_reasons",
            "disagrees",
            "author",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["period_end", "evidence_rag", "evidence_reasons", "author", "created_at", "updated_at"]
        # The model's own constraints answer, with their messages (CleanModelSerializer).
        validators = []
