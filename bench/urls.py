"""The portal's URLs plus the vote benchmark's baseline: the most trivial authenticated DRF insert.

POST /bench/insert/ validates a one-field body with a serializer and inserts one row (an
organization, no audit event, no lock), with the same token authentication, throttling and
middleware as every API call, so the vote endpoint's throughput is read against what the stack
itself costs."""

from __future__ import annotations

import uuid

from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.choices import Sector
from governance.models import Organization
from governance.urls import urlpatterns as portal_urlpatterns


class InsertSerializer(serializers.Serializer):
    choice = serializers.ChoiceField(choices=["yes", "no", "abstain"])


class TrivialInsert(APIView):
    def post(self, request):
        serializer = InsertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = Organization.objects.create(
            name=f"{serializer.validated_data['choice']} {uuid.uuid4()}", sector=Sector.PUBLIC
        )
        return Response({"id": row.pk, "choice": serializer.validated_data["choice"]})


urlpatterns = [*portal_urlpatterns, path("bench/insert/", TrivialInsert.as_view())]
