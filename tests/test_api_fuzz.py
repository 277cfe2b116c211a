"""Requests generated from the portal's own OpenAPI schema (schemathesis) against every API
operation, reads and writes: none may answer with a server error, and every answer must match
what the schema says about it (body and content type).

The portal runs in this process, through its WSGI handler: the schema is read from
/api/schema/ and each request is handed to the handler directly, in this thread, inside the
test's transaction. No live server thread, no socket, and no second database connection that
would have to wait for the test's own (the ways such a run hangs before its first request).

The demo body is seeded once per test (as in tests/test_permission_matrix.py). The callers are
its administrator, who may try every operation, and a staff member of one organization, for
whom most objects are out of view or out of reach. A detail operation gets one of the real
ids of its resource half the time, so writes reach real objects instead of 404s. Every request runs
in a savepoint that is rolled back, so each one meets the same seeded data and a failure
replays exactly. Generation is deterministic (fixed seed, no example database), and bounded:
TGB_FUZZ_EXAMPLES examples per operation (10 by default), TGB_FUZZ_COVERAGE=1 adds
schemathesis's boundary-value phase for a deeper local run.
"""

from __future__ import annotations

import contextlib
import os
from unittest.mock import patch

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from governance.management.commands import seed_demo as seed_demo_command
from governance.models import User
from governance.services import tokens
from tests.bad_input import hostile
from tests.test_permission_matrix import api_list_urls, spread

pytestmark = [pytest.mark.fuzz]

# Not status_code_conformance: the schema documents the success answers only, and a 400, 403,
# 404 or 409 with a JSON `detail` is the right answer to most generated requests.
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": 20260101,
            "generation": {
                "mode": "all",  # schema-valid requests and invalid ones
                "max-examples": int(os.environ.get("TGB_FUZZ_EXAMPLES", "10")),
                "deterministic": True,
                "database": "none",
            },
            "phases": {
                "coverage": {"enabled": os.environ.get("TGB_FUZZ_COVERAGE") == "1"},
                "stateful": {"enabled": False},
            },
        }
    )


@contextlib.contextmanager
def connection_kept_between_requests():
    """The WSGI handler closes the database connection when a request starts and ends, as it
    must in production; here that connection holds the test's transaction."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (signals.request_started, signals.request_finished):
            signal.connect(close_old_connections)


def existing_ids(user: User) -> dict[str, list[int]]:
    """Up to eight ids of each listed resource, by list path."""
    client = APIClient()
    client.force_authenticate(user)
    found = {}
    for url in api_list_urls():
        response = client.get(url, {"page_size": 500})
        if response.status_code == 200:
            body = response.json()
            rows = body["results"] if isinstance(body, dict) else body
            found[url] = spread({row["id"] for row in rows if isinstance(row, dict) and "id" in row}, 8)
    return found


def seeded_schema(username: str):
    """The schema of the seeded demo portal, called with `username`'s token."""
    # The whole demo but its two days of minute samples, which add seeding time and no case.
    seeders = [name for name in seed_demo_command.APP_SEEDERS if name != "compute.demo.metrics"]
    with (
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        patch.object(seed_demo_command, "APP_SEEDERS", seeders),
        open(os.devnull, "w") as quiet,
    ):
        call_command("seed_demo", stdout=quiet)
    token, _ = tokens.issue_token(User.objects.get(username=username))
    # The administrator's ids: a caller who may not see an object meets it all the same.
    known = existing_ids(User.objects.get(username="admin"))
    with connection_kept_between_requests():
        schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler(), config=config())
        schema.config.headers = {"Authorization": f"Token {token}"}

        @schema.hook("before_generate_path_parameters")
        def real_objects_too(context, strategy):
            path = context.operation.path
            ids = known.get(path.split("{id}")[0]) if "{id}" in path else None
            return st.one_of(st.fixed_dictionaries({"id": st.sampled_from(ids)}), strategy) if ids else strategy

        @schema.hook("before_generate_body")
        def hostile_values_too(context, strategy):
            # A third of the bodies carry one of the bad-input suite's hostile values (NUL, lone
            # surrogates, ids past 2^63, year 9999...) in one of their fields. JSON bodies only:
            # a file upload's form fields carry text.
            media = {getattr(alternative, "media_type", "") for alternative in context.operation.body}
            if media != {"application/json"}:
                return strategy
            return st.one_of(
                strategy, strategy, st.tuples(strategy, st.integers(0, 50), hostile.json_values()).map(with_hostile)
            )

        @schema.hook("before_generate_query")
        def hostile_filters_too(context, strategy):
            # Filters too: `²`, ids past 2^63 and the like in a query string (text only).
            return st.one_of(
                strategy, strategy, st.tuples(strategy, st.integers(0, 50), hostile.form_values()).map(with_hostile)
            )

        yield schema


def with_hostile(drawn: tuple) -> object:
    body, index, value = drawn
    if not isinstance(body, dict) or not body:
        return body
    return {**body, sorted(body)[index % len(body)]: value}


@pytest.fixture
def api_schema(db):
    """As the administrator, who may try every operation."""
    yield from seeded_schema("admin")


@pytest.fixture
def api_schema_as_staff(db):
    """As a staff member of one organization: most objects are out of view or out of reach,
    so the refusal paths (404, 403, 409) are the ones exercised."""
    yield from seeded_schema("tara.staff")


schema = schemathesis.pytest.from_fixture("api_schema")
schema_as_staff = schemathesis.pytest.from_fixture("api_schema_as_staff")


def call(case) -> None:
    with transaction.atomic():
        case.call_and_validate(checks=CHECKS)
        transaction.set_rollback(True)


@schema.parametrize()
def test_no_operation_answers_with_a_server_error_or_off_its_schema(case):
    call(case)


@schema_as_staff.parametrize()
def test_nor_does_any_operation_called_by_a_staff_member(case):
    call(case)
