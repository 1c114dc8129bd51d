"""Schemathesis against the hub's own OpenAPI: every route, generated inputs (a bounded
number per route so the run stays near a minute), on a real uvicorn server. No answer
may be a 500, and every answer must match the schema and content type it documents."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.support.hub_process import HubProcess

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES_PER_ROUTE = 6


@pytest.fixture(scope="module")
def fuzzed_hub(tmp_path_factory):
    hub = HubProcess(tmp_path_factory.mktemp("fuzz"), env={"HUB_RATE_LIMITS": "false"}).start()
    yield hub
    hub.close()


@pytest.mark.parametrize("scope", ["admin", "anonymous"])
def test_no_server_error_and_answers_match_the_schema(fuzzed_hub, scope):
    schema = schemathesis.openapi.from_url(f"{fuzzed_hub.url}/openapi.json")
    headers = {} if scope == "anonymous" else {"Authorization": f"Bearer {fuzzed_hub.token('fuzz', scope)}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20  # every native, admin and HF route is documented and fuzzed
    failures = []
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every route's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc).strip()[:600]}")
    assert not failures, "\n\n".join(failures)
