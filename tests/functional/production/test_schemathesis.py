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
from hypothesis import strategies as st
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


def _bounded_integers(operation: Any) -> list[tuple[str, int, int | None]]:
    """The operation's integer query parameters with their documented bounds."""
    found = []
    for parameter in operation.query:
        schema = parameter.definition.get("schema") or {}
        if schema.get("type") == "integer":
            maximum = schema.get("maximum")
            found.append(
                (
                    parameter.name,
                    int(schema.get("minimum", -(2**63))),
                    None if maximum is None else int(maximum),
                )
            )
    return found


def _refused_as_out_of_range(name: str, response: Any) -> None:
    """Assert the answer is the one error format's 400, naming the parameter ``name``."""
    assert response.status_code == 400, (name, response.status_code, response.text[:300])
    content_type = response.headers["content-type"]
    # schemathesis' own responses list each header's values.
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400 and problem["code"] == "invalid_input"
    assert problem["type"] and problem["title"] and name in problem["detail"]
    assert name in [error["field"] for error in problem["errors"]], problem


def out_of_range_integers_are_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """A check: a documented integer query parameter outside its bounds is a 400 naming it."""
    for name, low, high in _bounded_integers(case.operation):
        value = (case.query or {}).get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        if value < low or (high is not None and value > high):
            _refused_as_out_of_range(name, response)
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    out_of_range_integers_are_refused,
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


#: Out-of-range values drawn per bounded integer parameter of each operation.
OUT_OF_RANGE_EXAMPLES = 8


@pytest.mark.slow
def test_out_of_range_paging_is_a_400_problem_on_every_route(
    settings: Settings, engine: Engine
) -> None:
    """Every paged route refuses a ``limit``/``offset`` (and kin) outside its documented bounds.

    For each operation with integer query parameters, schema-valid requests are
    drawn with one parameter replaced by a value below its minimum or above its
    maximum (the bounds of the README's parameter table, as the OpenAPI document
    states them): each answer is a 400 in the one error format, naming the
    parameter. The bounds themselves are accepted.
    """
    admin_key = create_token(engine, "fuzz-admin", "admin")
    app = create_app(settings, engine)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    bounded = {op.label: _bounded_integers(op) for op in operations if _bounded_integers(op)}
    # Every paged list documents both bounds of each integer it takes.
    assert len(bounded) >= 7, sorted(bounded)
    unbounded = [(label, n) for label, ps in bounded.items() for n, _, high in ps if high is None]
    assert not unbounded, f"integer parameters without a documented maximum: {unbounded}"
    refused: dict[tuple[str, str], int] = {}
    accepted: dict[tuple[str, str], int] = {}
    for operation in operations:
        for name, low, high in _bounded_integers(operation):
            assert high is not None
            outside = st.one_of(
                st.sampled_from([low - 1, high + 1, 2**63, 10**20]),
                st.integers(max_value=low - 1),
                st.integers(min_value=high + 1),
            )
            for values, tally, examples in (
                (outside, refused, OUT_OF_RANGE_EXAMPLES),
                (st.sampled_from([low, high]), accepted, 2),
            ):

                @given(
                    case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                    value=values,
                )
                @hypothesis_settings(
                    max_examples=examples,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(HealthCheck),
                )
                def run(case: Any, value: int) -> None:
                    parameter, low_, high_ = name, low, high  # noqa: B023 - runs in this loop
                    counts = tally  # noqa: B023
                    case.query = dict(case.query or {}) | {parameter: value}
                    response = case.call(headers={"X-API-Key": admin_key})
                    if low_ <= value <= high_:
                        # The bounds themselves are in range: never refused for this parameter.
                        fields = []
                        if response.status_code == 400:
                            fields = [e["field"] for e in response.json().get("errors", [])]
                        assert parameter not in fields, (case.operation.label, value, response.text)
                    else:
                        _refused_as_out_of_range(parameter, response)
                    case.validate_response(response, checks=CHECKS)
                    key = (case.operation.label, parameter)
                    counts[key] = counts.get(key, 0) + 1

                run()
    expected = {(label, n) for label, ps in bounded.items() for n, _, _ in ps}
    assert set(refused) == expected and set(accepted) == expected
    assert all(count >= OUT_OF_RANGE_EXAMPLES for count in refused.values()), refused
