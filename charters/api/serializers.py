"""Serializers of the charters API (field names as in DESIGN.md 2.2)."""

from __future__ import annotations

from rest_framework import serializers

from charters.choices import BOTH_SECTOR_STEPS, CHARTER_TRANSITIONS, ReviewKind, ReviewVerdict
from charters.models import (
    Charter,
    CharterVersion,
    Dataset,
    DataUseAgreement,
    RegisteredModel,
    Signature,
    TechnicalReview,
    TrainingData,
)
from governance.api.base import CleanModelSerializer


class CharterSerializer(CleanModelSerializer):
    lead_sector = serializers.CharField(source="lead_organization.sector", read_only=True)
    transitions = serializers.SerializerMethodField(help_text="The lifecycle steps that may start from here.")
    pending_steps = serializers.SerializerMethodField(
        help_text="Suspend, resume or terminate asked for by some sectors' co-chairs: "
        "{step: [sectors that asked]}; the step is taken when every sector has."
    )
    allowed_jurisdictions = serializers.ListField(child=serializers.CharField(max_length=64), required=False)

    class Meta:
        model = Charter
        fields = [
            "id",
            "committee",
            "title",
            "summary",
            "objectives",
            "national_impact",
            "lead_organization",
            "lead_sector",
            "participating_organizations",
            "ip_framework",
            "licence_terms",
            "commercialization_rights",
            "government_royalty_free_use",
            "data_classification",
            "allowed_jurisdictions",
            "requested_credits",
            "data_use_agreements",
            "resources",
            "status",
            "status_reason",
            "version",
            "created_by",
            "created_at",
            "updated_at",
            "transitions",
            "pending_steps",
        ]
        read_only_fields = ["status", "status_reason", "version", "created_by", "created_at", "updated_at"]

    def get_transitions(self, charter: Charter) -> list[str]:
        return [t.name for t in charter.transitions()]

    def get_pending_steps(self, charter: Charter) -> dict[str, list[str]]:
        return charter.pending_steps()


class StepSerializer(serializers.Serializer):
    """Which both-sector step a co-chair withdraws their request for."""

    step = serializers.ChoiceField(choices=[(name, CHARTER_TRANSITIONS[name].label) for name in BOTH_SECTOR_STEPS])


class TransitionSerializer(serializers.Serializer):
    """Input of a lifecycle step: a reason where the step asks for one, a ballot for the steps
    only a ballot's outcome takes."""

    reason = serializers.CharField(required=False, allow_blank=True, default="")
    ballot = serializers.IntegerField(required=False, allow_null=True, default=None)


class ChecklistItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    met = serializers.BooleanField()
    automatic = serializers.BooleanField()
    findings = serializers.ListField(child=serializers.CharField())


class TechnicalReviewSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number", read_only=True)
    checklist = ChecklistItemSerializer(many=True, read_only=True)

    class Meta:
        model = TechnicalReview
        fields = ["id", "version", "kind", "reviewer", "verdict", "notes", "checklist", "created_at", "updated_at"]
        read_only_fields = fields


class ReviewInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReviewKind.choices)
    verdict = serializers.ChoiceField(choices=ReviewVerdict.choices)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    checklist = serializers.DictField(
        child=serializers.BooleanField(),
        required=False,
        default=dict,
        help_text="The reviewer's answer (met or not) for each checklist item the portal does not check itself.",
    )


class CharterVersionSerializer(serializers.ModelSerializer):
    reviews = TechnicalReviewSerializer(many=True, read_only=True)

    class Meta:
        model = CharterVersion
        fields = [
            "id",
            "number",
            "is_amendment",
            "status",
            "content",
            "change_note",
            "proposed_by",
            "proposed_at",
            "decided_at",
            "reviews",
        ]
        read_only_fields = fields


class AmendmentSerializer(CharterSerializer):
    """An amendment: the fields that change, and why."""

    change_note = serializers.CharField()

    class Meta(CharterSerializer.Meta):
        fields = [*CharterSerializer.Meta.fields, "change_note"]

    def validate(self, attrs):
        # Amendments are partial (only the fields that change), which skips `required`: the
        # reason is asked for here instead.
        if not attrs.get("change_note", "").strip():
            raise serializers.ValidationError({"change_note": "Say why the charter is amended."})
        note = attrs.pop("change_note")
        attrs = super().validate(attrs)
        attrs["change_note"] = note
        return attrs


class FieldChangeSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    before = serializers.CharField()
    after = serializers.CharField()
    removed = serializers.ListField(child=serializers.CharField())
    added = serializers.ListField(child=serializers.CharField())


class DatasetSerializer(CleanModelSerializer):
    class Meta:
        model = Dataset
        fields = ["id", "name", "description", "steward", "jurisdiction", "classification", "created_at"]
        read_only_fields = ["created_at"]


class SignatureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Signature
        fields = ["organization", "signed_by", "signed_at"]
        read_only_fields = fields


class DataUseAgreementSerializer(CleanModelSerializer):
    signatures = SignatureSerializer(many=True, read_only=True)
    unsigned_parties = serializers.SerializerMethodField()
    state = serializers.CharField(source="state_label", read_only=True)
    expired = serializers.SerializerMethodField()
    charters = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = DataUseAgreement
        fields = [
            "id",
            "title",
            "purpose",
            "datasets",
            "parties",
            "anonymization_standard",
            "anonymization_details",
            "insights_owner",
            "insights_terms",
            "audit_rights",
            "expires_on",
            "expired",
            "expired_flagged_at",
            "state",
            "signatures",
            "unsigned_parties",
            "charters",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["expired_flagged_at", "created_by", "created_at"]

    def get_unsigned_parties(self, agreement: DataUseAgreement) -> list[int]:
        return [party.pk for party in agreement.unsigned_parties()]

    def get_expired(self, agreement: DataUseAgreement) -> bool:
        return agreement.is_expired()


class RenewSerializer(serializers.Serializer):
    expires_on = serializers.DateField()


class TrainingDataSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrainingData
        fields = ["dataset", "agreement"]


class RegisteredModelSerializer(CleanModelSerializer):
    training_data = TrainingDataSerializer(many=True, required=False)

    class Meta:
        model = RegisteredModel
        fields = [
            "id",
            "charter",
            "name",
            "version",
            "digest",
            "parent",
            "trained_at",
            "training_data",
            "credits_consumed",
            "gpu_hours",
            "bias_audit_summary",
            "bias_audit_results",
            "intended_use",
            "limitations",
            "evaluation",
            "registered_by",
            "created_at",
        ]
        read_only_fields = ["registered_by", "created_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # Provenance is fixed at registration: only the model card changes afterwards.
            for name in (
                "charter",
                "name",
                "version",
                "digest",
                "parent",
                "trained_at",
                "training_data",
                "credits_consumed",
                "gpu_hours",
            ):
                fields[name].read_only = True
        return fields

    def validate(self, attrs):
        training = attrs.pop("training_data", None)
        attrs = super().validate(attrs)
        if training is not None:
            attrs["training_data"] = training
        return attrs
