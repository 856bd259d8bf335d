"""Schemathesis generates requests from the OpenAPI document; none may cause a server error.

Schemathesis is used as a library (its pytest plugin does not support this pytest version):
for every operation of the document, Hypothesis draws requests from the operation's strategy
and sends them to the app in-process with an analyst's bearer token.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import PASSWORD, WebHarness


def test_no_server_error_for_generated_requests(harness: WebHarness) -> None:
    def fresh_token() -> str:
        # Each operation gets its own session: DELETE /auth/token ends the one it is sent with.
        response = harness.client().post(
            "/api/v1/auth/token", json={"username": "analyst", "password": PASSWORD}
        )
        return str(response.json()["token"])

    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", harness.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    failures: list[str] = []
    statuses: set[int] = set()
    for operation in operations:
        harness.app.state.limiter.reset()
        _checker(operation, fresh_token(), statuses, failures)()
    assert failures == []
    assert {200, 422} <= statuses, f"generated requests must reach the handlers: {statuses}"


def _checker(operation: Any, token: str, statuses: set[int], failures: list[str]) -> Any:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        statuses.add(response.status_code)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

    return check
