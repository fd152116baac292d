"""Property-based tests of the API against its own OpenAPI document (schemathesis).

Every operation gets generated requests, schema-valid and schema-invalid, with
an admin key (and, in a second test, the same requests made hostile: huge and
non-ASCII integers, control characters, doubled slashes) so that write routes are exercised beyond the auth check. The
checks: no 5xx, every status code and content type documented, every body
matching its documented schema. Bounded: at most 2 x 15 cases per operation
and backend (about a thousand requests in all).
"""

from __future__ import annotations

from typing import Any

import httpx
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

from foss_registry.config import Settings
from foss_registry.wiring import create_app
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


#: Values a careless or hostile client puts where an integer goes.
HOSTILE_INTEGERS = [
    "100000000000000000000",
    "-100000000000000000000",
    str(2**63),
    "1e3",
    "5.0",
    "\uff11",  # fullwidth 1
    "\u0666",  # Arabic-Indic 6
    "\u00b2",  # superscript 2
    "0x10",
    "",
]
#: Control characters and their kin, put into every string.
HOSTILE_CHARACTERS = ["\x00", "\n", "\r", "\x1b[31m", "\u202e", "\u2028", "\x7f"]


def _hostile(value: Any, index: int) -> Any:
    """``value`` with a control character added to every string in it."""
    char = HOSTILE_CHARACTERS[index % len(HOSTILE_CHARACTERS)]
    if isinstance(value, str):
        return value + char if index % 2 else char + value
    if isinstance(value, list):
        return [_hostile(item, index + n) for n, item in enumerate(value)]
    if isinstance(value, dict):
        return {key: _hostile(item, index + n) for n, (key, item) in enumerate(value.items())}
    return value


@pytest.mark.slow
def test_boundary_and_hostile_data_on_every_route_is_never_a_server_error(
    settings: Settings, engine: Engine
) -> None:
    """Schema-valid requests of every operation, then made hostile, over HTTP.

    Each generated case is sent with its integer parameters replaced by huge,
    signed, exponent and non-ASCII spellings, with a control character in each
    string parameter and body field, and with its path's slashes doubled.
    """
    from litestar.testing import TestClient

    admin_key = create_token(engine, "fuzz-admin", "admin")
    app = create_app(settings, engine)
    # The document as the app serves it; the requests go through the client below.
    schema = schemathesis.openapi.from_dict(app.litestar.openapi_schema.to_schema())
    operations = [result.ok() for result in schema.get_all_operations()]
    server_errors: list[str] = []
    sent = 0
    with TestClient(app=app, raise_server_exceptions=False) as client:
        for operation in operations:
            current_integers = {
                p.name
                for p in operation.query
                if (p.definition.get("schema") or {}).get("type") == "integer"
            }

            @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
            @hypothesis_settings(
                max_examples=6,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                nonlocal sent
                integers = current_integers  # noqa: B023 - run() runs in this iteration
                path = "/api/v1" + case.formatted_path
                plain = (dict, list, str, int, float, bool)
                body = case.body if isinstance(case.body, plain) else None
                variants = []
                for hostile in HOSTILE_INTEGERS:
                    query = dict(case.query or {}) | dict.fromkeys(integers, hostile)
                    variants.append((path, query, body))
                    if not integers:
                        break
                for n in range(3):
                    query = {
                        k: v if k in integers else _hostile(v, n)
                        for k, v in (case.query or {}).items()
                    }
                    variants.append((path, query, _hostile(body, n)))
                variants.append(("/" + path.replace("/", "//"), case.query or {}, body))
                for url, query, content in variants:
                    kwargs: dict[str, Any] = {"params": query, "headers": {"X-API-Key": admin_key}}
                    if content is not None and case.method.upper() in ("POST", "PUT"):
                        kwargs["json"] = content
                    target = httpx.URL("http://testserver.local/").copy_with(
                        raw_path=httpx.URL(url).raw_path
                    )
                    response = client.request(case.method.upper(), target, **kwargs)
                    sent += 1
                    if response.status_code >= 500:
                        server_errors.append(
                            f"{case.method} {url} {query!r} {content!r}: {response.status_code} "
                            f"{response.text[:300]}"
                        )

            run()
    assert not server_errors, "\n".join(server_errors[:20])
    assert sent >= len(operations) * 6
