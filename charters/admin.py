"""Admin of the charters app: read-mostly views of the record. Changes go through the pages and
the API, which call charters.services; the admin does not write around them."""

from django.contrib import admin

from charters.models import (
    Charter,
    CharterVersion,
    Dataset,
    DataUseAgreement,
    RegisteredModel,
    Signature,
    TechnicalReview,
)
from governance.admin import ReadOnlyAdmin


class VersionInline(admin.TabularInline):
    model = CharterVersion
    fields = ["number", "is_amendment", "status", "proposed_by", "proposed_at", "decided_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Charter)
class CharterAdmin(ReadOnlyAdmin):
    list_display = ["title", "status", "lead_organization", "ip_framework", "data_classification", "version"]
    list_filter = ["status", "ip_framework", "data_classification", "lead_organization__sector"]
    search_fields = ["title"]
    inlines = [VersionInline]


class SignatureInline(admin.TabularInline):
    model = Signature
    fields = ["organization", "signed_by", "signed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(DataUseAgreement)
class DataUseAgreementAdmin(ReadOnlyAdmin):
    list_display = ["title", "expires_on", "expired_flagged_at"]
    inlines = [SignatureInline]


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ["name", "steward", "jurisdiction", "classification"]


@admin.register(TechnicalReview)
class TechnicalReviewAdmin(ReadOnlyAdmin):
    list_display = ["version", "kind", "verdict", "reviewer", "updated_at"]


@admin.register(RegisteredModel)
class RegisteredModelAdmin(ReadOnlyAdmin):
    list_display = ["name", "version", "charter", "parent", "trained_at"]
