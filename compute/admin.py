"""Admin of the compute app."""

# --- Credits ---------------------------------------------------------------------------------
# Resources and pools are written through compute.services.credits, so the admin cannot skip
# validation, the ledger or the audit log. The ledger, requests and usage are read-only here:
# credits move only through the services (requests, usage, transfers, expiry, refunds).

from django.contrib import admin

from compute.models import (
    AccountingMapping,
    CreditAccount,
    CreditAlert,
    CreditPool,
    CreditRequest,
    LedgerEntry,
    LedgerTransaction,
    Resource,
    ResourceRate,
    UsageRecord,
)
from compute.services.credits import accounting, pools, resources
from governance.admin import ReadOnlyAdmin, ReadOnlyInline


class ResourceRateInline(ReadOnlyInline):
    # A rate is set through the API or resources.set_rate, which refuses re-pricing.
    model = ResourceRate
    fields = ["rate", "effective_from", "note", "created_by"]


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "capacity", "jurisdiction", "tee_capable", "status"]
    list_filter = ["kind", "status", "tee_capable", "jurisdiction"]
    search_fields = ["name"]
    inlines = [ResourceRateInline]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            resources.update_resource(request.user, obj, **fields)
        else:
            obj.pk = resources.create_resource(request.user, **form.cleaned_data).pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditPool)
class CreditPoolAdmin(admin.ModelAdmin):
    list_display = ["name", "committee", "period_start", "period_end", "total", "expired_at"]
    list_filter = ["committee"]
    fields = ["committee", "name", "period_start", "period_end", "total"]

    def save_model(self, request, obj, form, change):
        if change:
            pools.update_pool(request.user, obj, **{name: form.cleaned_data[name] for name in form.changed_data})
        else:
            obj.pk = pools.create_pool(request.user, **form.cleaned_data).pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccountingMapping)
class AccountingMappingAdmin(admin.ModelAdmin):
    # Written through compute.services.credits.accounting, so every change is audited.
    list_display = ["system", "kind", "name", "charter", "resource"]
    list_filter = ["system", "kind"]
    search_fields = ["name"]
    fields = ["system", "kind", "name", "charter", "resource"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change and obj.pk:
            # A renamed or re-kinded mapping is the old one forgotten and a new one made.
            old = AccountingMapping.objects.get(pk=obj.pk)
            if (old.system, old.kind, old.name) != (data["system"], data["kind"], data["name"]):
                accounting.remove_mapping(request.user, old)
        obj.pk = accounting.set_mapping(
            request.user,
            system=data["system"],
            kind=data["kind"],
            name=data["name"],
            charter=data.get("charter"),
            resource=data.get("resource"),
        ).pk

    def delete_model(self, request, obj):
        accounting.remove_mapping(request.user, obj)

    def delete_queryset(self, request, queryset):
        for mapping in queryset:
            accounting.remove_mapping(request.user, mapping)


class LedgerEntryInline(ReadOnlyInline):
    model = LedgerEntry
    fields = ["account", "pool", "amount"]


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "occurred_at", "memo", "actor"]
    list_filter = ["kind"]
    date_hierarchy = "occurred_at"
    inlines = [LedgerEntryInline]


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "balance"]
    list_filter = ["kind"]
    list_select_related = ["charter", "pool"]


@admin.register(CreditRequest)
class CreditRequestAdmin(ReadOnlyAdmin):
    list_display = ["pk", "charter", "resource", "amount", "approved_amount", "status", "requested_by"]
    list_filter = ["status", "pool", "resource"]
    list_select_related = ["charter", "resource", "requested_by"]


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = ["hour", "source", "resource", "charter", "unit_hours", "rate_value", "credits"]
    list_filter = ["source", "resource"]
    list_select_related = ["resource", "charter"]
    date_hierarchy = "hour"


@admin.register(CreditAlert)
class CreditAlertAdmin(ReadOnlyAdmin):
    list_display = ["account", "threshold", "allocation", "consumed", "created_at", "emailed_at"]
    list_select_related = ["account__charter"]
