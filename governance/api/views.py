"""Viewsets of the governance API. Each reads through its model's `visible_to` and writes
through governance.services."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db.models import Case, Exists, OuterRef, Prefetch, Value, When
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes, throttle_classes
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from governance import permissions, services
from governance.api.serializers import (
    AuditEventSerializer,
    BallotSerializer,
    ChainReportSerializer,
    CommitteeSerializer,
    MeetingSerializer,
    MembershipChangeSerializer,
    MembershipSerializer,
    OrganizationSerializer,
    PowerSerializer,
    RecusalSerializer,
    RecuseRequestSerializer,
    SOPSerializer,
    SubstitutionSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UserSerializer,
    VoteRequestSerializer,
    VoteSerializer,
)
from governance.audit import verify_chain
from governance.choices import BallotStatus
from governance.models import (
    SOP,
    AgendaItem,
    ApiToken,
    Attendance,
    AuditEvent,
    Ballot,
    Committee,
    Meeting,
    Membership,
    MembershipChange,
    Organization,
    Substitution,
    User,
    Vote,
)
from governance.models.ballots import tallies_for
from governance.powers import powers_table
from governance.roles import is_administrator
from governance.services import tokens
from governance.transparency.views import PlainTextRenderer
from identity.backends import SSO_ONLY_MESSAGE, password_refused_for


class TokenThrottle(AnonRateThrottle):
    scope = "token"
    rate = "20/min"


@extend_schema(methods=["POST"], request=TokenRequestSerializer, responses=TokenSerializer, auth=[])
@extend_schema(methods=["DELETE"], request=None, responses={204: None})
@api_view(["POST", "DELETE"])
@permission_classes([AllowAny])
@throttle_classes([TokenThrottle])
def obtain_token(request):
    """POST: exchange a username, password and (with two-factor sign-in) the current code for
    an expiring API token. DELETE: revoke the token this request is made with."""
    if request.method == "DELETE":
        if not isinstance(request.auth, ApiToken):
            return Response(
                {"detail": "Send the token to revoke in the Authorization header.", "code": "not_authenticated"},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        tokens.revoke_token(request.user, request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
    serializer = TokenRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    credentials = {key: serializer.validated_data[key] for key in ("username", "password")}
    # The plain HttpRequest, so django-axes can mark a lockout where its middleware looks.
    user = authenticate(request=request._request, **credentials)
    if user is None and password_refused_for(credentials["username"]):
        return Response({"detail": SSO_ONLY_MESSAGE, "code": "sso_only"}, status=status.HTTP_400_BAD_REQUEST)
    if user is None or not user.is_active:
        return Response(
            {"detail": "Unable to log in with the username and password given.", "code": "authentication_failed"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    key, token = tokens.issue_token(user, otp=serializer.validated_data.get("otp"))
    return Response({"token": key, "expires": token.expires_at})


@extend_schema(responses=PowerSerializer(many=True), auth=[])
@api_view(["GET"])
@permission_classes([AllowAny])
def powers(request):
    """Who may do what: every act that changes the body's state, who may do it, and whether
    one person suffices or both sectors or a ballot are needed (DESIGN.md 2.7)."""
    return Response(powers_table())


class ServicePolicy(BasePermission):
    """Reads are scoped by the queryset; writes ask the viewset's `may_create`/`may_change`
    first, so a caller without the right gets 403 before any validation of their input.
    The service checks again: it is the rule, this is the early answer."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "action", None) != "create":
            return True
        return view.may_create(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return view.may_change(request.user, obj)


class ServiceModelViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """A model API whose writes call services instead of serializer.save().

    Subclasses name `create_service(actor, **data)` and `update_service(actor, obj, **data)`.
    Nothing is deleted through the API: the record of the body is kept.
    """

    permission_classes = [IsAuthenticated, ServicePolicy]

    def may_create(self, user) -> bool:
        return is_administrator(user)

    def may_change(self, user, obj) -> bool:
        return is_administrator(user)

    def perform_create(self, serializer):
        serializer.instance = type(self).create_service(self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = type(self).update_service(
            self.request.user, serializer.instance, **serializer.validated_data
        )


class UserViewSet(ServiceModelViewSet):
    serializer_class = UserSerializer
    filterset_fields = ["organization", "is_active"]
    ordering_fields = ["username", "last_name"]
    create_service = staticmethod(services.create_user)
    update_service = staticmethod(services.update_user)

    def may_change(self, user, obj) -> bool:
        return is_administrator(user) or user.pk == obj.pk

    def get_queryset(self):
        return User.objects.visible_to(self.request.user).prefetch_related("groups").order_by("username")


class OrganizationViewSet(ServiceModelViewSet):
    serializer_class = OrganizationSerializer
    filterset_fields = ["sector"]
    ordering_fields = ["name", "sector"]
    create_service = staticmethod(services.create_organization)
    update_service = staticmethod(services.update_organization)

    def get_queryset(self):
        return Organization.objects.visible_to(self.request.user).prefetch_related("signatories")


class CommitteeViewSet(ServiceModelViewSet):
    serializer_class = CommitteeSerializer
    ordering_fields = ["name"]
    create_service = staticmethod(services.create_committee)
    update_service = staticmethod(services.update_committee)

    def may_change(self, user, obj) -> bool:
        return permissions.can_manage_committee(user, obj)

    def get_queryset(self):
        return Committee.objects.visible_to(self.request.user).with_active_memberships()


class MembershipViewSet(ServiceModelViewSet):
    serializer_class = MembershipSerializer
    filterset_fields = ["committee", "organization", "user", "role", "voting"]
    ordering_fields = ["term_start", "role"]
    create_service = staticmethod(services.add_membership)
    update_service = staticmethod(services.update_membership)

    def may_create(self, user) -> bool:
        # Which committee is checked by the service, once the input names it.
        return permissions.manages_any_committee(user)

    def may_change(self, user, obj) -> bool:
        return permissions.can_manage_committee(user, obj.committee)

    def get_queryset(self):
        return Membership.objects.visible_to(self.request.user).select_related("organization", "committee", "user")


class MembershipChangeViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Seat changes of a constituted committee: a co-chair or the secretary proposes, the
    co-chair of every other sector consents (both co-chairs for a secretary's proposal), and
    the last consent applies the change. Nothing here is edited or deleted: a pending change is
    withdrawn."""

    serializer_class = MembershipChangeSerializer
    filterset_fields = ["committee", "status", "kind"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return (
            MembershipChange.objects.visible_to(self.request.user)
            .select_related("committee")
            .prefetch_related("consented_by")
        )

    def perform_create(self, serializer):
        serializer.instance = services.propose_membership_change(self.request.user, **serializer.validated_data)

    def _answer(self, change: MembershipChange) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=change.pk)).data)

    @extend_schema(request=None, responses=MembershipChangeSerializer)
    @action(detail=True, methods=["post"])
    def consent(self, request, pk=None):
        """Consent as a co-chair of a sector the change needs; the last consent applies it."""
        return self._answer(services.consent_to_membership_change(request.user, self.get_object()))

    @extend_schema(request=None, responses=MembershipChangeSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw a pending change (its proposer or a co-chair)."""
        return self._answer(services.withdraw_membership_change(request.user, self.get_object()))


RECEIPT_RENDERERS = [JSONRenderer, PlainTextRenderer]


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log, read-only: nothing updates or deletes an event."""

    serializer_class = AuditEventSerializer
    filterset_fields = ["verb", "object_type", "object_id", "actor"]
    ordering_fields = ["id", "leaf_index"]

    def get_queryset(self):
        if self.action == "receipt":
            return AuditEvent.objects.receipts_for(self.request.user)
        return AuditEvent.objects.visible_to(self.request.user)

    def check_permissions(self, request):
        super().check_permissions(request)
        # Anyone signed in may fetch the receipt of their own act; the queryset says which.
        if self.action != "receipt" and not request.user.has_perm("governance.view_auditevent"):
            self.permission_denied(request, message="Only auditors, co-chairs and secretaries read the audit log.")

    @extend_schema(responses={(200, "text/plain"): str})
    @action(detail=True, methods=["get"], renderer_classes=RECEIPT_RENDERERS)
    def receipt(self, request, pk=None):
        """The event's C2SP tlog-proof@v1 receipt, once it is in a checkpoint both witnesses cosigned."""
        from governance.transparency.receipts import receipt_for

        event = self.get_object()
        response = HttpResponse(receipt_for(event).text(), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="event-{event.pk}.tlog-proof"'
        return response

    @extend_schema(responses=ChainReportSerializer)
    @action(detail=False, methods=["get"])
    def verify(self, request):
        """Check every commitment, the tree against the signed checkpoint, and it against the witnesses."""
        return Response(verify_chain().as_dict())


# --- Ballots -------------------------------------------------------------------------------


class BallotViewSet(ServiceModelViewSet):
    """Ballots (DESIGN.md section 3). Drafts are prepared by the co-chairs and the secretary,
    opened and closed by the co-chairs; members vote and declare conflicts. Nothing about an
    open ballot's rules changes, and a closed ballot does not change at all (409)."""

    serializer_class = BallotSerializer
    filterset_fields = ["committee", "status", "outcome", "subject_type", "subject_id", "method"]
    ordering_fields = ["created_at", "opened_at", "closes_at", "closed_at"]
    create_service = staticmethod(services.create_ballot)
    update_service = staticmethod(services.update_ballot)
    ACTS = ("vote", "recuse", "open", "close")

    def _ballot_on_my_roll(self, pk) -> Ballot | None:
        """The ballot, found by the voter's row of its roll: the portal's busiest write skips the
        general read rules, which a voter on the roll meets by definition (rolls are made when a
        ballot opens, and open and closed ballots are the record every signed-in person reads).
        Anyone else, or an id that is no number, goes through get_object and its 404."""
        try:
            number = int(str(pk))
        except ValueError:
            return None
        roll = Ballot.objects.filter(pk=number, roll__user=self.request.user)
        return roll.only("id", "committee_id", "title", "status", "closes_at").first()

    def filter_queryset(self, queryset):
        # An act finds one ballot by its id: the list's filters and ordering do not apply.
        if self.action in self.ACTS:
            return queryset
        return super().filter_queryset(queryset)

    def get_queryset(self):
        user = self.request.user
        if self.action == "vote":
            # The portal's busiest write: find the ballot (cast_vote reads what it needs afresh).
            return Ballot.objects.visible_to(user).only("id", "committee_id", "title", "status", "closes_at")
        if self.action in self.ACTS:
            # The acts lock and re-read the ballot themselves; they only need to find it.
            return Ballot.objects.visible_to(user).select_related("committee")
        return (
            Ballot.objects.visible_to(user)
            .with_voter_state(user)
            .select_related("committee")
            .prefetch_related("recusals__user", "close_requests")
            .annotate(
                # Open ballots first, then drafts, then the record of closed ones.
                status_rank=Case(
                    When(status=BallotStatus.OPEN, then=Value(0)),
                    When(status=BallotStatus.DRAFT, then=Value(1)),
                    default=Value(2),
                )
            )
            .order_by("status_rank", "-opened_at", "-created_at")
        )

    def may_create(self, user) -> bool:
        # Which committee is checked by the service, once the input names it.
        return permissions.manages_any_committee(user)

    def may_change(self, user, obj) -> bool:
        if self.action in ("vote", "recuse"):
            return True  # the service decides who is on the roll, and says why not
        if self.action in ("open", "close"):
            return permissions.can_run_ballots(user, obj.committee)
        return permissions.can_prepare_ballots(user, obj.committee)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        # Every open ballot on the page is counted in the same two queries.
        context = {**self.get_serializer_context(), "tallies": tallies_for(rows)}
        data = self.get_serializer(rows, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def _fresh(self, ballot: Ballot) -> Response:
        self.action = "retrieve"  # answer with the full ballot, as its detail would show it
        return Response(self.get_serializer(self.get_queryset().get(pk=ballot.pk)).data)

    @extend_schema(request=None, responses=BallotSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        """Open a draft: freeze the roll, recuse the parties' members, notify the voters."""
        return self._fresh(services.open_ballot(request.user, self.get_object()))

    @extend_schema(request=None, responses=BallotSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close an open ballot, count it and apply the outcome to its subject: at once when
        every eligible member has voted or the closing time has passed; otherwise this records
        the co-chair's request, and the ballot closes when every sector's co-chair has asked.
        `detail` says which happened."""
        ballot = services.close_ballot(request.user, self.get_object())
        response = self._fresh(ballot)
        response.data["detail"] = services.close_message(ballot)
        return response

    @extend_schema(request=VoteRequestSerializer, responses=VoteSerializer)
    @action(detail=True, methods=["post"])
    def vote(self, request, pk=None):
        """Cast or change your vote; the last one counts until the ballot closes."""
        ballot = self._ballot_on_my_roll(pk) or self.get_object()
        serializer = VoteRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        vote = services.cast_vote(
            request.user,
            ballot,
            serializer.validated_data["choice"],
            on_behalf_of=serializer.validated_data.get("on_behalf_of"),
        )
        return Response(VoteSerializer(vote).data)

    @extend_schema(request=RecuseRequestSerializer, responses={201: RecusalSerializer})
    @action(detail=True, methods=["post"])
    def recuse(self, request, pk=None):
        """Declare a conflict of interest (before voting): you leave your sector's denominator."""
        ballot = self.get_object()
        serializer = RecuseRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        recusal = services.declare_conflict(request.user, ballot, serializer.validated_data["reason"])
        return Response(RecusalSerializer(recusal).data, status=status.HTTP_201_CREATED)


class SubstitutionViewSet(
    mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """Substitutes (DESIGN.md 2.1). A voting member names one for their own seat (POST, with
    `committee`, `substitute`, `scope` and the `ballot`, the `meeting` or `starts_on`/`ends_on`)
    and withdraws it (POST `/withdraw/`) until the substitute has voted under it. Listed to the
    member, the substitute and the committee's co-chairs and secretary."""

    serializer_class = SubstitutionSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["committee", "member", "substitute", "scope", "status", "ballot", "meeting"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return (
            Substitution.objects.visible_to(self.request.user)
            .select_related("member", "substitute")
            .annotate(voted=Exists(Vote.objects.filter(substitution=OuterRef("pk"))))
            .order_by("-created_at", "-pk")
        )

    def perform_create(self, serializer):
        serializer.instance = services.name_substitute(self.request.user, **serializer.validated_data)

    @extend_schema(request=None, responses=SubstitutionSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw your substitution (only before the substitute has voted under it)."""
        substitution = services.withdraw_substitution(request.user, self.get_object())
        return Response(self.get_serializer(substitution).data)


class MeetingViewSet(viewsets.ReadOnlyModelViewSet):
    """Meetings with their agenda, attendance per sector and minutes (read-only here: the
    secretary runs them on the meeting pages, through the same services)."""

    serializer_class = MeetingSerializer
    filterset_fields = ["committee", "status"]
    ordering_fields = ["starts_at"]

    def get_queryset(self):
        return (
            Meeting.objects.visible_to(self.request.user)
            .select_related("minutes")
            .prefetch_related(
                Prefetch("agenda_items", queryset=AgendaItem.objects.order_by("position")),
                Prefetch("attendance", queryset=Attendance.objects.order_by()),
            )
            .order_by("-starts_at")
        )


class SOPViewSet(viewsets.ReadOnlyModelViewSet):
    """Standard operating procedures with every version (read-only: versions are drafted on
    the procedure pages and adopted by ballot)."""

    serializer_class = SOPSerializer
    filterset_fields = ["committee", "category"]
    ordering_fields = ["title"]

    def get_queryset(self):
        return SOP.objects.visible_to(self.request.user).prefetch_related("versions").order_by("title")
