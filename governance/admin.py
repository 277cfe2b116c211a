"""Admin of the governance app. Writes go through governance.services, so the admin cannot
skip validation, role syncing or the audit log."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.admin import GuardedModelAdmin

from governance import services
from governance.audit import record_event, snapshot
from governance.models import (
    SOP,
    AgendaItem,
    ApiToken,
    Attendance,
    AuditEvent,
    Ballot,
    Committee,
    Eligibility,
    Meeting,
    Membership,
    MembershipChange,
    Minutes,
    Organization,
    Recusal,
    SOPVersion,
    User,
    Vote,
)
from governance.services import tokens

# What the audit log keeps of an administrator's edit of a person: every field that carries
# power or identity. The password is recorded as changed, never as its hash.
USER_AUDITED_FIELDS = [
    "username",
    "first_name",
    "last_name",
    "email",
    "organization",
    "is_active",
    "is_staff",
    "is_superuser",
]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """People, edited by administrators. Every change is audited: superuser and staff status,
    the organization (which is the person's sector), roles, permissions and the password."""

    list_display = ["username", "first_name", "last_name", "organization", "is_active", "is_staff"]
    list_filter = ["organization__sector", "is_active", "groups"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Organization", {"fields": ["organization"]}))

    def save_model(self, request, obj, form, change):
        before = snapshot(User.objects.get(pk=obj.pk), USER_AUDITED_FIELDS) if change else {}
        password_changed = change and obj.password != User.objects.get(pk=obj.pk).password
        super().save_model(request, obj, form, change)
        after = snapshot(obj, USER_AUDITED_FIELDS)
        changed = {name: value for name, value in after.items() if before.get(name) != value}
        if not change:
            record_event(request.user, "user.created", obj, after=after)
        elif changed or password_changed:
            record_event(
                request.user,
                "user.updated",
                obj,
                before={name: before[name] for name in changed},
                after={**changed, **({"password": "changed"} if password_changed else {})},
            )

    def save_related(self, request, form, formsets, change):
        # Role (group) and permission changes made here are audited like any other.
        instance = form.instance
        before_roles = set(instance.groups.values_list("name", flat=True)) if change else set()
        before_perms = set(instance.user_permissions.values_list("codename", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        after_roles = set(instance.groups.values_list("name", flat=True))
        after_perms = set(instance.user_permissions.values_list("codename", flat=True))
        if before_roles != after_roles:
            record_event(
                request.user,
                "user.roles_changed",
                instance,
                before={"roles": sorted(before_roles)},
                after={"roles": sorted(after_roles)},
            )
        if before_perms != after_perms:
            record_event(
                request.user,
                "user.permissions_changed",
                instance,
                before={"permissions": sorted(before_perms)},
                after={"permissions": sorted(after_perms)},
            )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens as their holders' prefix and dates: the key is never stored, and only its hash
    could be shown, so neither is. Revoking is the one change, and it is audited."""

    list_display = ["prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["revoked_at"]
    fields = ["prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at", "verified_two_factor"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            tokens.revoke_token(request.user, token)


class AuditedTOTPDeviceAdmin(admin.ModelAdmin):
    """Authenticator devices without their secret keys or QR codes. An administrator may
    remove a lost device (the person enrols again); the removal is audited."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        record_event(request.user, "two_factor.removed", obj.user, before={"device": obj.name})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for device in queryset:
            self.delete_model(request, device)


if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, AuditedTOTPDeviceAdmin)


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


class MembershipAdminForm(forms.ModelForm):
    """Seats are written here only while their committee is being set up (DESIGN.md 2.7)."""

    class Meta:
        model = Membership
        fields = ["user", "committee", "organization", "role", "voting", "term_start", "term_end"]

    def clean(self):
        cleaned = super().clean()
        committee = cleaned.get("committee") or getattr(self.instance, "committee", None)
        if committee is not None and not committee.bootstrapping:
            raise forms.ValidationError(
                f"{committee} has been constituted: its seats change only with both co-chairs' consent "
                "(a membership change, proposed and consented to in the portal or at /api/membership-changes/)."
            )
        return cleaned


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
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


@admin.register(MembershipChange)
class MembershipChangeAdmin(ReadOnlyAdmin):
    list_display = ["committee", "kind", "user", "membership", "status", "proposed_by", "created_at"]
    list_filter = ["status", "kind", "committee"]


@admin.register(SOP)
class SOPAdmin(ReadOnlyAdmin):
    list_display = ["title", "committee", "category"]
    list_filter = ["category", "committee"]
    inlines = [SOPVersionInline]
