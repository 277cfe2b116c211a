"""Serializers of the governance API (field names as in DESIGN.md section 3)."""

from __future__ import annotations

import base64

from django.contrib.auth.password_validation import validate_password
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.api.base import CleanModelSerializer, StrictPrimaryKeyRelatedField
from governance.choices import BallotStatus, MinutesStatus, Outcome, VoteChoice
from governance.models import (
    SOP,
    AgendaItem,
    AuditEvent,
    Ballot,
    Committee,
    Meeting,
    Membership,
    MembershipChange,
    Minutes,
    Organization,
    Recusal,
    SOPVersion,
    Substitution,
    User,
    Vote,
)
from governance.models.ballots import member_committee_ids
from governance.models.people import constitution_problems
from governance.permissions import managed_committees
from governance.powers import Needs
from governance.roles import is_administrator
from governance.services.people import COMMITTEE_FIELDS, ORGANIZATION_FIELDS
from governance.services.seats import sectors_consented, sectors_needed


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
            "notification_delivery",
        ]
        read_only_fields = ["is_active"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        viewer = getattr(request, "user", None)
        if not (viewer and (viewer.pk == instance.pk or is_administrator(viewer))):
            # How a person takes their e-mails is their own business.
            data.pop("notification_delivery", None)
        return data

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
    signatories = StrictPrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=User.objects.all(),
        help_text="Who signs data use agreements for the organization; set by administrators, audited.",
    )

    class Meta:
        model = Organization
        fields = ["id", *ORGANIZATION_FIELDS, "signatories", "created_at"]
        read_only_fields = ["created_at"]


class CommitteeSerializer(CleanModelSerializer):
    constituted = serializers.SerializerMethodField()
    constitution_problems = serializers.SerializerMethodField()
    seats = serializers.SerializerMethodField()

    class Meta:
        model = Committee
        fields = [
            "id",
            *COMMITTEE_FIELDS,
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


@extend_schema_field(OpenApiTypes.BYTE)
class Base64Field(serializers.Field):
    """Bytes as standard base64, as the log's formats write them."""

    def to_representation(self, value) -> str:
        return base64.b64encode(bytes(value)).decode("ascii")


class MembershipChangeSerializer(serializers.ModelSerializer):
    """A proposed seat change (DESIGN.md 2.7): written by its proposer, applied by consent."""

    membership = StrictPrimaryKeyRelatedField(queryset=Membership.objects.all(), required=False, allow_null=True)
    sectors_needed = serializers.SerializerMethodField(help_text="Sectors whose co-chair must consent.")
    sectors_consented = serializers.SerializerMethodField(help_text="Sectors whose co-chair has consented.")

    class Meta:
        model = MembershipChange
        fields = [
            "id",
            "committee",
            "kind",
            "membership",
            "user",
            "organization",
            "role",
            "voting",
            "term_start",
            "term_end",
            "reason",
            "status",
            "proposed_by",
            "proposer_sector",
            "consented_by",
            "sectors_needed",
            "sectors_consented",
            "created_at",
            "decided_at",
        ]
        read_only_fields = ["status", "proposed_by", "proposer_sector", "consented_by", "created_at", "decided_at"]

    def get_sectors_needed(self, change: MembershipChange) -> list[str]:
        return sorted(sectors_needed(change))

    def get_sectors_consented(self, change: MembershipChange) -> list[str]:
        return sorted(sectors_consented(change))


class AuditEventSerializer(serializers.ModelSerializer):
    commitment = Base64Field(read_only=True, help_text="SHA-256(salt || canonical JSON of the event), base64.")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "leaf_index",
            "commitment",
            "created_at",
            "actor",
            "actor_repr",
            "verb",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
        ]
        read_only_fields = fields


class ChainReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField()
    first_broken = serializers.IntegerField(allow_null=True)
    tree_size = serializers.IntegerField()
    root = serializers.CharField(help_text="The root of the tree rebuilt from the events, base64.")
    witnesses = serializers.ListField(child=serializers.DictField())
    problems = serializers.ListField(child=serializers.CharField())


class PowerSerializer(serializers.Serializer):
    act = serializers.CharField(help_text="The service function that performs the act.")
    does = serializers.CharField()
    who = serializers.CharField(help_text="Who may do it, or start it.")
    needs = serializers.ChoiceField(choices=Needs.choices)
    needs_label = serializers.CharField()
    note = serializers.CharField()


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"})
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        help_text="The current two-factor code, for a person with two-factor sign-in.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Shown once: the portal keeps only its hash.")
    expires = serializers.DateTimeField()


# --- Ballots -------------------------------------------------------------------------------


class SectorTallySerializer(serializers.Serializer):
    eligible = serializers.IntegerField()
    recused = serializers.IntegerField()
    yes = serializers.IntegerField()
    no = serializers.IntegerField()
    abstain = serializers.IntegerField()
    support = serializers.FloatField()
    quorum_met = serializers.BooleanField()


class TallySerializer(serializers.Serializer):
    """DESIGN.md's tally: per-sector counts, parity support, quorum and outcome."""

    sectors = serializers.DictField(child=SectorTallySerializer())
    parity_support = serializers.FloatField()
    quorum_met = serializers.BooleanField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)


class RecusalSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.__str__", read_only=True)

    class Meta:
        model = Recusal
        fields = ["id", "ballot", "user", "name", "organization", "sector", "reason", "automatic", "created_at"]
        read_only_fields = fields


class VoteSerializer(serializers.ModelSerializer):
    """A seat's vote. `voter` is the seat's member; when a substitute cast it, `cast_by` names
    the substitute and `on_behalf_of` the member ("cast_by for on_behalf_of")."""

    on_behalf_of = serializers.SerializerMethodField()

    class Meta:
        model = Vote
        fields = [
            "id",
            "ballot",
            "voter",
            "sector",
            "choice",
            "changes",
            "created_at",
            "updated_at",
            "cast_by",
            "on_behalf_of",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_on_behalf_of(self, vote: Vote) -> int | None:
        return vote.voter_id if vote.cast_by_id else None


class VoteRequestSerializer(serializers.Serializer):
    choice = serializers.ChoiceField(choices=VoteChoice.choices)
    on_behalf_of = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="For a substitute named by several members: the member in whose seat this vote is cast.",
    )


class SubstitutionSerializer(CleanModelSerializer):
    """A member's substitute (DESIGN.md 2.1): written by the member for their own seat."""

    member = serializers.PrimaryKeyRelatedField(read_only=True)
    member_name = serializers.CharField(source="member.__str__", read_only=True)
    substitute_name = serializers.CharField(source="substitute.__str__", read_only=True)
    has_voted = serializers.SerializerMethodField()

    class Meta:
        model = Substitution
        fields = [
            "id",
            "committee",
            "member",
            "member_name",
            "substitute",
            "substitute_name",
            "substitute_organization",
            "sector",
            "scope",
            "ballot",
            "meeting",
            "starts_on",
            "ends_on",
            "status",
            "withdrawn_at",
            "has_voted",
            "created_at",
        ]
        read_only_fields = ["substitute_organization", "sector", "status", "withdrawn_at", "created_at"]
        validators = []

    def get_has_voted(self, substitution: Substitution) -> bool:
        voted = getattr(substitution, "voted", None)
        return substitution.votes.exists() if voted is None else voted


class RecuseRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class BallotSerializer(CleanModelSerializer):
    """A ballot with its tally. Tallies and recusals of open ballots are shown to the
    committee's members only; once closed they are part of the public record."""

    subject = serializers.CharField(source="subject_title", read_only=True)
    tally = serializers.SerializerMethodField()
    recusals = serializers.SerializerMethodField()
    my_vote = serializers.SerializerMethodField()
    close_requested_by = serializers.SerializerMethodField(
        help_text="Sectors whose co-chair has asked to close this ballot early (it closes once every sector has)."
    )

    class Meta:
        model = Ballot
        fields = [
            "id",
            "committee",
            "title",
            "description",
            "subject_type",
            "subject_id",
            "subject",
            "method",
            "quorum",
            "closes_at",
            "status",
            "outcome",
            "tally",
            "recusals",
            "my_vote",
            "close_requested_by",
            "previous_ballot",
            "opened_at",
            "closed_at",
            "created_by",
            "opened_by",
            "closed_by",
            "created_at",
        ]
        read_only_fields = [
            "status",
            "outcome",
            "opened_at",
            "closed_at",
            "created_by",
            "opened_by",
            "closed_by",
            "created_at",
        ]
        extra_kwargs = {"method": {"required": False}, "quorum": {"required": False}}
        # The model's constraints are checked by full_clean (CleanModelSerializer); DRF's own
        # copy of the conditional one-open-ballot-per-subject constraint cannot read `status`.
        validators = []

    def validate(self, attrs):
        if self.instance is None and attrs.get("committee") and attrs.get("subject_type"):
            # The committee's defaults, so the model's own validation sees the real ballot.
            draft = Ballot(
                committee=attrs["committee"],
                subject_type=attrs["subject_type"],
                method=attrs.get("method", ""),
                quorum=attrs.get("quorum"),
            )
            draft.apply_committee_defaults()
            attrs.setdefault("method", draft.method)
            attrs.setdefault("quorum", draft.quorum)
        return super().validate(attrs)

    def get_close_requested_by(self, ballot: Ballot) -> list[str]:
        return sorted(request.sector for request in ballot.close_requests.all())

    def _shows_tally(self, ballot: Ballot) -> bool:
        if ballot.status == BallotStatus.CLOSED:
            return True
        if ballot.status == BallotStatus.DRAFT:
            return False
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if is_administrator(user):
            return True
        if "_member_committees" not in self.context:
            self.context["_member_committees"] = member_committee_ids(user)
        return ballot.committee_id in self.context["_member_committees"]

    @extend_schema_field(TallySerializer(allow_null=True))
    def get_tally(self, ballot: Ballot) -> dict | None:
        if not self._shows_tally(ballot):
            return None
        tallies = self.context.get("tallies")
        if tallies is not None and ballot.pk in tallies:
            return tallies[ballot.pk]
        return ballot.tally

    @extend_schema_field(RecusalSerializer(many=True))
    def get_recusals(self, ballot: Ballot) -> list[dict]:
        if ballot.status == BallotStatus.DRAFT or not self._shows_tally(ballot):
            return []
        return RecusalSerializer(ballot.recusals.all(), many=True).data

    @extend_schema_field(serializers.ChoiceField(choices=VoteChoice.choices, allow_null=True))
    def get_my_vote(self, ballot: Ballot) -> str | None:
        return getattr(ballot, "my_vote", None)


# --- Meetings and SOPs (read-only: written through the pages and the services) ---------------


class AgendaItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgendaItem
        fields = ["position", "title", "description", "ballot"]
        read_only_fields = fields


class SectorAttendanceSerializer(serializers.Serializer):
    sector = serializers.CharField()
    voting = serializers.IntegerField()
    attending = serializers.IntegerField()
    excused = serializers.IntegerField()
    absent = serializers.IntegerField()


class MinutesSerializer(serializers.ModelSerializer):
    class Meta:
        model = Minutes
        fields = ["status", "body", "approved_by", "approved_at", "digest", "pdf_sha256"]
        read_only_fields = fields


class MeetingSerializer(serializers.ModelSerializer):
    """A meeting with its agenda, attendance per sector and minutes. Draft minutes are shown
    only to those who run the committee; approved minutes are part of the record."""

    agenda = AgendaItemSerializer(source="agenda_items", many=True, read_only=True)
    attendance_by_sector = serializers.SerializerMethodField()
    minutes = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = [
            "id",
            "committee",
            "title",
            "starts_at",
            "location",
            "status",
            "agenda",
            "attendance_by_sector",
            "minutes",
        ]
        read_only_fields = fields

    @extend_schema_field(SectorAttendanceSerializer(many=True))
    def get_attendance_by_sector(self, meeting: Meeting) -> list[dict]:
        return [
            {key: row[key] for key in ("sector", "voting", "attending", "excused", "absent")}
            for row in meeting.attendance_by_sector()
        ]

    @extend_schema_field(MinutesSerializer(allow_null=True))
    def get_minutes(self, meeting: Meeting) -> dict | None:
        minutes = getattr(meeting, "minutes", None)
        if minutes is None:
            return None
        if minutes.status != MinutesStatus.APPROVED:
            user = getattr(self.context.get("request"), "user", None)
            if "_managed" not in self.context:
                self.context["_managed"] = (
                    None if is_administrator(user) else set(managed_committees(user).values_list("pk", flat=True))
                )
            managed = self.context["_managed"]
            if managed is not None and meeting.committee_id not in managed:
                return {"status": minutes.status, "body": None, "approved_by": None, "approved_at": None, "digest": ""}
        return MinutesSerializer(minutes).data


class SOPVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SOPVersion
        fields = ["id", "number", "status", "change_summary", "body", "adopted_at", "created_at"]
        read_only_fields = fields


class SOPSerializer(serializers.ModelSerializer):
    versions = SOPVersionSerializer(many=True, read_only=True)
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = SOP
        fields = ["id", "committee", "title", "category", "in_force", "versions"]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_in_force(self, sop: SOP) -> int | None:
        """The number of the adopted version."""
        version = sop.adopted_version
        return version.number if version else None
