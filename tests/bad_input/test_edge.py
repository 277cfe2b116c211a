"""The probe's body-level cases: refused at the edge with a message, before anything parses."""

from __future__ import annotations

import io
import json
from unittest.mock import patch

from django.test import override_settings

from governance import limits
from tests.base import PortalTestCase


class BodyLimitTests(PortalTestCase):
    def test_it_refuses_a_60_mb_body_before_parsing_it(self):
        # The declared length is what counts: the body itself is never read.
        client = self.api()
        stream = io.BytesIO(b"{}")
        response = client.generic(
            "POST", "/api/auth/token/", stream.getvalue(), content_type="application/json", CONTENT_LENGTH="60000000"
        )
        assert response.status_code == 413
        assert "larger than" in response.json()["detail"]

    def test_it_refuses_a_3_mb_patch_to_a_user(self):
        body = json.dumps({"first_name": "x" * 3_000_000})
        response = self.api(self.admin).patch(f"/api/users/{self.outsider.pk}/", body, content_type="application/json")
        assert response.status_code == 413
        self.outsider.refresh_from_db()
        assert self.outsider.first_name == "Olga"

    def test_a_large_form_post_gets_a_page_saying_so(self):
        response = self.client.generic(
            "POST", "/login/", b"a=b", content_type="application/x-www-form-urlencoded", CONTENT_LENGTH="60000000"
        )
        assert response.status_code == 413
        assert b"Request too large" in response.content

    def test_a_content_length_that_is_no_number_is_bad_input(self):
        response = self.client.generic("POST", "/api/auth/token/", b"", CONTENT_LENGTH="\u00b2")
        assert response.status_code == 400

    def test_the_report_upload_takes_its_own_larger_allowance(self):
        self.client.force_login(self.admin)
        response = self.client.generic(
            "POST",
            "/api/security-reports/",
            b"",
            content_type="multipart/form-data; boundary=x",
            CONTENT_LENGTH="5000000",
        )
        assert response.status_code != 413


class JsonDepthTests(PortalTestCase):
    def test_it_answers_json_nested_20000_deep_with_400(self):
        deep = "[" * 20_000 + "]" * 20_000
        response = self.api().post("/api/auth/token/", deep, content_type="application/json")
        assert response.status_code == 400
        assert "deeper" in response.json()["detail"]

    def test_brackets_inside_strings_nest_nothing(self):
        assert limits.json_depth(json.dumps({"a": "[[[[[[" * 100, "b": ['"]]]\\"[[']})) == 2

    def test_nan_and_infinity_are_no_json(self):
        response = self.api(self.admin).post(
            "/api/committees/", '{"name": "X", "quorum": NaN}', content_type="application/json"
        )
        assert response.status_code == 400

    @override_settings(JSON_MAX_DEPTH=3)
    def test_the_depth_is_a_setting(self):
        body = json.dumps({"username": [[["x"]]]})
        response = self.api().post("/api/auth/token/", body, content_type="application/json")
        assert response.status_code == 400


class HostHeaderTests(PortalTestCase):
    def test_a_bad_host_header_is_a_clean_400_page(self):
        response = self.client.get("/", HTTP_HOST="evil..example")
        assert response.status_code == 400
        assert b"could not be understood" in response.content

    def test_a_bad_host_header_on_the_api_is_a_clean_400(self):
        response = self.client.get("/api/users/", HTTP_HOST="ev il")
        assert response.status_code == 400
        assert response.json()["detail"]


class SchemaTests(PortalTestCase):
    def test_the_schema_is_generated_once_per_process(self):
        from drf_spectacular.generators import SchemaGenerator

        from governance.api.schema_view import CachedSchemaView

        CachedSchemaView._generated.clear()
        with patch.object(SchemaGenerator, "get_schema", autospec=True, side_effect=SchemaGenerator.get_schema) as made:
            first = self.client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
            second = self.client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
            self.client.get("/api/schema/")  # YAML: the same data, rendered differently
        assert first.status_code == second.status_code == 200
        assert first.content == second.content
        assert made.call_count == 1

    def test_anonymous_readers_of_the_schema_are_throttled(self):
        from governance.api.schema_view import SchemaThrottle

        with patch.object(SchemaThrottle, "rate", "2/min"):
            answers = [self.client.get("/api/schema/").status_code for _ in range(3)]
        assert answers == [200, 200, 429]
