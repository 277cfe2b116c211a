"""The metrics and security-posture API: sources, pushed samples, series, security reports."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from compute import permissions, selectors
from compute.api.serializers.metrics import (
    IngestResultSerializer,
    MetricSourceSerializer,
    SecurityReportUploadSerializer,
    SecurityScanSerializer,
    SeriesQuerySerializer,
)
from compute.choices import ScanOrigin
from compute.models import MetricSource, Resource, SecurityScan
from compute.services.metrics import collection, security, sources
from governance.api.views import ServiceModelViewSet


class MetricSourceViewSet(ServiceModelViewSet):
    serializer_class = MetricSourceSerializer
    filterset_fields = ["kind", "resource", "enabled"]
    ordering_fields = ["name"]
    create_service = staticmethod(sources.create_source)
    update_service = staticmethod(sources.update_source)

    def may_create(self, user) -> bool:
        return permissions.may_manage_metric_sources(user)

    def may_change(self, user, obj) -> bool:
        return permissions.may_manage_metric_sources(user)

    def get_queryset(self):
        return MetricSource.objects.visible_to(self.request.user).order_by("name")

    @extend_schema(request=None, responses=MetricSourceSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-token")
    def rotate_token(self, request, pk=None):
        """Give a push source a new token (shown in this answer only); the old one stops working."""
        source = self.get_object()
        self.check_object_permissions(request, source)
        source.plain_token = sources.rotate_token(request.user, source)
        return Response(self.get_serializer(source).data)


class SourceTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` naming a push source. request.auth is that source."""

    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <source token>'.")
        source = sources.source_for_token(header[1].decode(errors="replace"))
        if source is None:
            raise exceptions.AuthenticationFailed("Unknown metric source token.")
        return (None, source)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="metrics"'


class SourceTokenScheme(OpenApiAuthenticationExtension):
    target_class = SourceTokenAuthentication
    name = "sourceToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "The token of a push metric source."}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The batch is too large."
    default_code = "too_large"


class MetricIngestView(APIView):
    """POST a batch of samples from an agent, authenticated by its source's token."""

    authentication_classes = [SourceTokenAuthentication]
    permission_classes = [AllowAny]  # the source token is checked below: 401 without one
    parser_classes = []  # the body is read and checked by the service, whole

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses=IngestResultSerializer,
        description='Body: {"samples": [{"metric": "DCGM_FI_DEV_GPU_UTIL", "time": "…Z", "value": 42.5}]}.',
    )
    def post(self, request):
        if not isinstance(request.auth, MetricSource):
            raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <source token>'.")
        limit = settings.METRICS_PUSH_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise PayloadTooLarge(f"The batch is {length:,} bytes; at most {limit:,} are accepted.")
        body = request.stream.read(limit + 1) if request.stream else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"The batch is larger than {limit:,} bytes.")
        result = collection.ingest_push(request.auth, body)
        return Response(result, status=status.HTTP_202_ACCEPTED)


class MetricSeriesView(APIView):
    """A metric's series for one or more resources, downsampled on the server."""

    @extend_schema(
        parameters=[SeriesQuerySerializer],
        responses={200: {"type": "object"}},
    )
    def get(self, request):
        params = request.query_params
        # Pre-serialised: the series' data comes as JSON bytes from the cache when unchanged.
        body = selectors.series_json(
            request.user,
            resources=params.getlist("resource"),
            metric=params.get("metric", ""),
            start=params.get("start"),
            end=params.get("end"),
            step=params.get("step"),
            envelope=params.get("envelope", "").lower() in ("1", "true", "yes"),
        )
        return HttpResponse(body, content_type="application/json")


class SecurityReportViewSet(viewsets.ReadOnlyModelViewSet):
    """Security scans, newest first. POST a report file (multipart: resource, file, kind)."""

    serializer_class = SecurityScanSerializer
    filterset_fields = ["resource", "kind", "origin"]
    ordering_fields = ["scanned_at", "score"]

    def get_queryset(self):
        return SecurityScan.objects.visible_to(self.request.user).order_by("-scanned_at", "-pk")

    parser_classes = [MultiPartParser, FormParser]  # reports arrive as files

    @extend_schema(request=SecurityReportUploadSerializer, responses={201: SecurityScanSerializer})
    def create(self, request):
        if not permissions.may_submit_reports(request.user):
            raise exceptions.PermissionDenied("Only administrators and report submitters may upload reports.")
        upload = SecurityReportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        if file.size > settings.SECURITY_REPORT_MAX_BYTES:
            raise PayloadTooLarge(f"The report is larger than {settings.SECURITY_REPORT_MAX_BYTES:,} bytes.")
        scan = security.ingest_report(
            request.user,
            resource=upload.validated_data["resource"],
            data=file.read(),
            filename=file.name,
            kind=upload.validated_data.get("kind") or None,
            origin=ScanOrigin.API,
        )
        return Response(self.get_serializer(scan).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("resource", int, required=False)],
        responses={200: {"type": "array", "items": {"type": "object"}}},
    )
    @action(detail=False, methods=["get"])
    def posture(self, request):
        """Per resource: the latest scan of each kind, when it was last scanned, and whether stale."""
        resources = Resource.objects.visible_to(request.user)
        if request.query_params.get("resource"):
            try:
                resource_id = int(request.query_params["resource"])
            except ValueError:
                raise exceptions.ValidationError({"resource": "resource is a resource id (a number)."}) from None
            resources = resources.filter(pk=resource_id)
        answer = [
            {
                "resource": item.resource.pk,
                "resource_name": item.resource.name,
                "last_scan_at": item.last_scan_at,
                "stale": item.stale,
                "stale_reason": item.stale_reason,
                "latest": {
                    kind: SecurityScanSerializer(scan, context={"request": request}).data
                    for kind, scan in item.latest.items()
                },
            }
            for item in selectors.posture(resources)
        ]
        return Response(answer)
