"""Serializers of the governance API (field names as in DESIGN.md section 3)."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from rest_framework import serializers

from governance.api.base import CleanModelSerializer
from governance.models import AuditEvent, Committee, Membership, Organization, User
from governance.models.people import constitution_problems


class UserSerializer(CleanModelSerializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "password",
            "email",
            "first_name",
            "last_name",
            "organization",
            "is_active",
            "roles",
        ]
        read_only_fields = ["is_active"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            # Passwords are set when the account is made, and changed by the person at /password/.
            fields.pop("password")
        return fields

    def get_roles(self, user: User) -> list[str]:
        return sorted(group.name for group in user.groups.all())

    def validate_password(self, value: str) -> str:
        validate_password(value)
        return value

    def clean_exclude(self) -> list[str]:
        return [*super().clean_exclude(), "password"]


class OrganizationSerializer(CleanModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "short_name", "sector", "jurisdiction", "website", "created_at"]
        read_only_fields = ["created_at"]


class SectorSeatsSerializer(serializers.Serializer):
    seats = serializers.IntegerField()
    chairs = serializers.IntegerField()
    members = serializers.IntegerField()


class CommitteeSerializer(CleanModelSerializer):
    constituted = serializers.SerializerMethodField()
    constitution_problems = serializers.SerializerMethodField()
    seats = serializers.SerializerMethodField()

    class Meta:
        model = Committee
        fields = [
            "id",
            "name",
            "description",
            "quorum",
            "method_charter",
            "method_credit_request",
            "method_roadmap",
            "method_sop",
            "method_motion",
            "constituted",
            "constitution_problems",
            "seats",
        ]

    def _seats(self, committee: Committee) -> dict:
        # Computed once per committee from the prefetched active memberships.
        cache = self.context.setdefault("_seats", {})
        if committee.pk not in cache:
            cache[committee.pk] = committee.seats_by_sector()
        return cache[committee.pk]

    def get_constituted(self, committee: Committee) -> bool:
        return not self.get_constitution_problems(committee)

    def get_constitution_problems(self, committee: Committee) -> list[str]:
        return constitution_problems(self._seats(committee))

    def get_seats(self, committee: Committee) -> dict[str, dict[str, int]]:
        return self._seats(committee)


class MembershipSerializer(CleanModelSerializer):
    sector = serializers.CharField(source="organization.sector", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "committee", "organization", "sector", "role", "voting", "term_start", "term_end"]


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "sequence",
            "created_at",
            "actor",
            "actor_repr",
            "verb",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class ChainReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField()
    first_broken = serializers.IntegerField(allow_null=True)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
