"""Administrators map identity providers' claims to organizations and portal roles; every write
goes through identity.services.identities, so it is audited. allauth's own admin pages are
removed: providers come from the environment, and the admin site shows no secrets (2.7)."""

from __future__ import annotations

from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin, messages
from django.db import models

from governance.models import User
from identity.models import OrganizationMapping, RoleMapping
from identity.services import identities

for model in (SocialApp, SocialToken, SocialAccount):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class RoleMappingInline(admin.TabularInline):
    model = RoleMapping
    extra = 1
    fields = ["claim_value", "role"]


@admin.register(OrganizationMapping)
class OrganizationMappingAdmin(admin.ModelAdmin):
    list_display = ["issuer", "claim_value", "organization"]
    list_filter = ["issuer"]
    search_fields = ["claim_value", "organization__name"]
    fields = ["issuer", "claim_value", "organization"]
    inlines = [RoleMappingInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        # Saved with its role rows in save_related, in one audited service call.
        pass

    def save_related(self, request, form, formsets, change):
        roles: dict[str, set[str]] = {}
        for formset in formsets:
            for row in formset.forms:
                data = getattr(row, "cleaned_data", None) or {}
                if data and not data.get("DELETE") and data.get("claim_value") and data.get("role"):
                    roles.setdefault(data["claim_value"], set()).add(data["role"])
        data = form.cleaned_data
        mapping = identities.set_mapping(
            request.user,
            issuer=data["issuer"],
            claim_value=data["claim_value"],
            organization=data["organization"],
            roles=roles,
            mapping=form.instance if change else None,
        )
        form.instance.pk = mapping.pk
        for formset in formsets:
            # The admin's change message reads what the formsets saved; the service saved it.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        identities.remove_mapping(request.user, obj)

    def delete_queryset(self, request, queryset):
        for mapping in queryset:
            identities.remove_mapping(request.user, mapping)


@admin.action(description="Revoke all sessions and API tokens (deprovision)")
def deprovision(modeladmin, request, queryset):
    revoked = sum(
        identities.deprovision(request.user, user, reason="Deprovisioned by an administrator.") for user in queryset
    )
    modeladmin.message_user(
        request, f"{queryset.count()} people signed out everywhere; {revoked} API tokens revoked.", messages.SUCCESS
    )


def _add_user_action() -> None:
    user_admin = admin.site._registry.get(User)
    if user_admin is not None:
        user_admin.actions = [*(user_admin.actions or []), deprovision]


_add_user_action()
