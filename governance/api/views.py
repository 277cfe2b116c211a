"""Viewsets of the governance API. Each reads through its model's `visible_to` and writes
through governance.services."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from guardian.shortcuts import get_objects_for_user
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action, api_view, permission_classes, throttle_classes
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from governance import services
from governance.api.serializers import (
    AuditEventSerializer,
    ChainReportSerializer,
    CommitteeSerializer,
    MembershipSerializer,
    OrganizationSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UserSerializer,
)
from governance.audit import verify_chain
from governance.models import AuditEvent, Committee, Membership, Organization, User
from governance.models.people import can_administer


class TokenThrottle(AnonRateThrottle):
    scope = "token"
    rate = "20/min"


@extend_schema(request=TokenRequestSerializer, responses=TokenSerializer)
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([TokenThrottle])
def obtain_token(request):
    """Exchange a username and password for the API token of that user."""
    serializer = TokenRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    # The plain HttpRequest, so django-axes can mark a lockout where its middleware looks.
    user = authenticate(request=request._request, **serializer.validated_data)
    if user is None or not user.is_active:
        return Response(
            {"detail": "Unable to log in with the username and password given.", "code": "authentication_failed"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    token, _ = Token.objects.get_or_create(user=user)
    return Response({"token": token.key})


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
        return can_administer(user)

    def may_change(self, user, obj) -> bool:
        return can_administer(user)

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
        return can_administer(user) or user.pk == obj.pk

    def get_queryset(self):
        return User.objects.visible_to(self.request.user).prefetch_related("groups").order_by("username")


class OrganizationViewSet(ServiceModelViewSet):
    serializer_class = OrganizationSerializer
    filterset_fields = ["sector"]
    ordering_fields = ["name", "sector"]
    create_service = staticmethod(services.create_organization)
    update_service = staticmethod(services.update_organization)

    def get_queryset(self):
        return Organization.objects.visible_to(self.request.user)


class CommitteeViewSet(ServiceModelViewSet):
    serializer_class = CommitteeSerializer
    ordering_fields = ["name"]
    create_service = staticmethod(services.create_committee)
    update_service = staticmethod(services.update_committee)

    def may_change(self, user, obj) -> bool:
        return services.can_manage_committee(user, obj)

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
        return (
            can_administer(user)
            or user.has_perm("governance.manage_committee")
            or bool(
                get_objects_for_user(user, services.MANAGE_COMMITTEE, klass=Committee, with_superuser=False).exists()
            )
        )

    def may_change(self, user, obj) -> bool:
        return services.can_manage_committee(user, obj.committee)

    def get_queryset(self):
        return Membership.objects.visible_to(self.request.user).select_related("organization", "committee", "user")


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log, read-only: nothing updates or deletes an event."""

    serializer_class = AuditEventSerializer
    filterset_fields = ["verb", "object_type", "object_id", "actor"]
    ordering_fields = ["sequence"]

    def get_queryset(self):
        return AuditEvent.objects.visible_to(self.request.user)

    def check_permissions(self, request):
        super().check_permissions(request)
        if not request.user.has_perm("governance.view_auditevent"):
            self.permission_denied(request, message="Only auditors, co-chairs and secretaries read the audit log.")

    @extend_schema(responses=ChainReportSerializer)
    @action(detail=False, methods=["get"])
    def verify(self, request):
        """Recompute the hash chain and report the first broken link."""
        return Response(verify_chain().as_dict())
