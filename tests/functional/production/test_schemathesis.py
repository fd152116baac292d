"""Property-based tests of the API against its own OpenAPI document (schemathesis).

Every operation gets generated requests, schema-valid and schema-invalid, with
an admin key so that write routes are exercised beyond the auth check. The
checks: no 5xx, every status code and content type documented, every body
matching its documented schema. Bounded: at most 2 x 15 cases per operation
and backend (about a thousand requests in all).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from foss_registry.api.app import create_app
from foss_registry.config import Settings
from tests.functional.conftest import create_token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_MODE = 15


@pytest.mark.slow
def test_api_conforms_to_its_openapi_document(settings: Settings, engine: Engine) -> None:
    admin_key = create_token(engine, "fuzz-admin", "admin")
    # Rate limits off (the suite's settings): a fuzzer is a load test.
    app = create_app(settings, engine)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[str] = []
    ran = 0
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(
                max_examples=EXAMPLES_PER_MODE,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                nonlocal ran
                ran += 1
                case.call_and_validate(headers={"X-API-Key": admin_key}, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                pass  # nothing in this operation can be made invalid (no parameters)
            except Exception as exc:  # collect every operation's failure, then report
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    assert ran >= len(operations) * 2
