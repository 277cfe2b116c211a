"""Admin of the governance app. Writes go through governance.services, so the admin cannot
skip validation, role syncing or the audit log."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from guardian.admin import GuardedModelAdmin

from governance import services
from governance.models import (
    SOP,
    AgendaItem,
    Attendance,
    AuditEvent,
    Ballot,
    Committee,
    Eligibility,
    Meeting,
    Membership,
    Minutes,
    Organization,
    Recusal,
    SOPVersion,
    User,
    Vote,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "organization", "is_active", "is_staff"]
    list_filter = ["organization__sector", "is_active", "groups"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Organization", {"fields": ["organization"]}))

    def save_related(self, request, form, formsets, change):
        # Role (group) and permission changes made here are audited like any other.
        before = set(form.instance.groups.values_list("name", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        after = set(form.instance.groups.values_list("name", flat=True))
        if before != after:
            from governance.audit import record_event

            record_event(
                request.user,
                "user.roles_changed",
                form.instance,
                before={"roles": sorted(before)},
                after={"roles": sorted(after)},
            )


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "sector", "jurisdiction"]
    list_filter = ["sector"]
    search_fields = ["name", "short_name"]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            services.update_organization(request.user, obj, **fields)
        else:
            obj.pk = services.create_organization(request.user, **form.cleaned_data).pk


@admin.register(Committee)
class CommitteeAdmin(GuardedModelAdmin):
    list_display = ["name", "quorum"]

    def save_model(self, request, obj, form, change):
        if change:
            services.update_committee(request.user, obj, **form.cleaned_data)
        else:
            obj.pk = services.create_committee(request.user, **form.cleaned_data).pk


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "committee", "organization", "role", "voting", "term_start", "term_end"]
    list_filter = ["committee", "role", "voting", "organization__sector"]

    def save_model(self, request, obj, form, change):
        if change:
            services.update_membership(request.user, Membership.objects.get(pk=obj.pk), **form.cleaned_data)
        else:
            obj.pk = services.add_membership(request.user, **form.cleaned_data).pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["id", "leaf_index", "created_at", "actor_repr", "verb", "object_repr"]
    list_filter = ["verb", "object_type"]
    search_fields = ["object_repr", "actor_repr"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Ballots, meetings, SOPs: read-only here; the pages and the API write through services ---


class ReadOnlyAdmin(admin.ModelAdmin):
    """The record as the services wrote it. Votes, tallies and minutes are never edited in
    the admin: a change there would skip the locks, the rules and the audit log."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EligibilityInline(ReadOnlyInline):
    model = Eligibility
    fields = ["user", "organization", "sector", "role"]


class RecusalInline(ReadOnlyInline):
    model = Recusal
    fields = ["user", "sector", "reason", "automatic", "created_at"]


class VoteInline(ReadOnlyInline):
    model = Vote
    fields = ["voter", "sector", "choice", "changes", "updated_at"]


@admin.register(Ballot)
class BallotAdmin(ReadOnlyAdmin):
    list_display = ["title", "committee", "subject_type", "method", "status", "outcome", "closes_at"]
    list_filter = ["status", "outcome", "method", "subject_type", "committee"]
    search_fields = ["title", "subject_title"]
    inlines = [EligibilityInline, RecusalInline, VoteInline]


class AgendaItemInline(ReadOnlyInline):
    model = AgendaItem
    fields = ["position", "title", "ballot"]


class AttendanceInline(ReadOnlyInline):
    model = Attendance
    fields = ["user", "organization", "sector", "role", "voting", "status"]


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["title", "committee", "starts_at", "status"]
    list_filter = ["status", "committee"]
    inlines = [AgendaItemInline, AttendanceInline]


@admin.register(Minutes)
class MinutesAdmin(ReadOnlyAdmin):
    list_display = ["meeting", "status", "approved_at", "digest"]


class SOPVersionInline(ReadOnlyInline):
    model = SOPVersion
    fields = ["number", "status", "change_summary", "adopted_at"]


@admin.register(SOP)
class SOPAdmin(ReadOnlyAdmin):
    list_display = ["title", "committee", "category"]
    list_filter = ["category", "committee"]
    inlines = [SOPVersionInline]
