"""Admin of the roadmap app: read-mostly views of the record. Changes go through the pages and
the API, which call roadmap.services; baselines are immutable and made only by ballots.
Themes, which have no page of their own, are added here through the service."""

from django.contrib import admin

from governance.admin import ReadOnlyAdmin
from roadmap.models import (
    Baseline,
    BaselineEntry,
    Initiative,
    Milestone,
    ProgressReport,
    RebaselineRequest,
    Roadmap,
    Theme,
)
from roadmap.services import initiatives


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = initiatives.create_theme(request.user, **form.cleaned_data).pk


@admin.register(Roadmap)
class RoadmapAdmin(ReadOnlyAdmin):
    list_display = ["title", "version", "status", "committee", "starts_on", "ends_on", "approved_at"]
    list_filter = ["status", "committee"]


@admin.register(Initiative)
class InitiativeAdmin(ReadOnlyAdmin):
    list_display = ["title", "priority", "national_impact_score", "owner", "starts_on", "report_cadence"]
    list_filter = ["priority", "themes", "report_cadence"]
    search_fields = ["title"]


@admin.register(Milestone)
class MilestoneAdmin(ReadOnlyAdmin):
    list_display = ["title", "initiative", "status", "percent_complete", "baseline_date", "forecast_date"]
    list_filter = ["status", "initiative"]
    search_fields = ["title"]


class BaselineEntryInline(admin.TabularInline):
    model = BaselineEntry
    fields = ["initiative_title", "title", "baseline_date", "forecast_date", "actual_date", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Baseline)
class BaselineAdmin(ReadOnlyAdmin):
    list_display = ["name", "roadmap", "kind", "ballot_id", "created_at"]
    list_filter = ["kind", "roadmap"]
    inlines = [BaselineEntryInline]


@admin.register(RebaselineRequest)
class RebaselineRequestAdmin(ReadOnlyAdmin):
    list_display = ["name", "roadmap", "status", "proposed_by", "created_at", "decided_at"]
    list_filter = ["status"]


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyAdmin):
    list_display = ["initiative", "period_start", "rag", "evidence_rag", "author"]
    list_filter = ["rag", "evidence_rag"]
