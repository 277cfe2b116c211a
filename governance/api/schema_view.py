"""/api/schema/: served from a copy generated once per process, and throttled for anonymous
callers. (Apart from governance.api.schema, which DRF's settings import before this view's base
class can be defined.)"""

from __future__ import annotations

import threading
from typing import ClassVar

from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle


class SchemaThrottle(AnonRateThrottle):
    """Anonymous readers of the schema: enough for docs and clients, not to saturate a worker."""

    scope = "schema"
    rate = "30/min"


class CachedSchemaView(SpectacularAPIView):
    """/api/schema/, generated once per process: it depends on the code only, and generating it
    costs a few tenths of a second of CPU, which anonymous callers could otherwise repeat at will."""

    throttle_classes = [SchemaThrottle]
    _generated: ClassVar[dict[tuple, dict]] = {}
    _lock = threading.Lock()

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, translation.get_language(), self.urlconf, bool(self.serve_public))
        with self._lock:
            if key not in self._generated:
                generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
                self._generated[key] = generator.get_schema(request=request, public=self.serve_public)
        return Response(
            data=self._generated[key],
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )
