"""Admin of the governance app. Writes go through governance.services, so the admin cannot
skip validation, role syncing or the audit log."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from guardian.admin import GuardedModelAdmin

from governance import services
from governance.models import AuditEvent, Committee, Membership, Organization, User


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
    list_display = ["sequence", "created_at", "actor_repr", "verb", "object_repr"]
    list_filter = ["verb", "object_type"]
    search_fields = ["object_repr", "actor_repr"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
