"""Schemathesis against the app's own OpenAPI, in process: no 5xx, and responses match their schemas.

Bounded (a few examples per operation, no example database written into the tree) so it fits
``make test``. Every operation is fuzzed; none is excluded.

Every response, errors included, is validated against the OpenAPI document (status, schema, content
type); the document declares ``ErrorBody`` (``{code, message, detail}``) for 4XX and 5XX, and every error
is also checked against that model directly, so an error shape the document stopped declaring still fails.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from apps.api.main import create_app
from shared.schemas.api import ErrorBody

MAX_EXAMPLES = 15
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@schemathesis.check
def conforms(ctx, response, case):
    """The documented schema and content type for every status; errors also the ``ErrorBody`` envelope."""
    response_schema_conformance(ctx, response, case)
    content_type_conformance(ctx, response, case)
    if response.status_code >= 400:
        assert response.headers.get("content-type", [""])[0].startswith("application/json"), response.headers
        ErrorBody.model_validate(response.json())
    return True


# 5xx the fuzzer found that need a fix outside this file; each is an xfail of its operation only, not a skip.


@pytest.fixture(autouse=True)
def _broker(redis_server):
    """``POST /v1/generations`` sends tasks, ``/ready`` and ``/v1/reconcile`` talk to Redis: a real one."""
    yield


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@pytest.mark.timeout(120)
def test_api_never_5xx_and_conforms(case):
    case.call_and_validate(checks=[not_a_server_error, conforms])
