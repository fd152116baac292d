"""What handlers need: the engine, a bounded thread pool for DB work, the JSON body."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
import msgspec
from anyio import CapacityLimiter
from litestar import Request
from sqlalchemy import Connection, Engine

from foss_registry.api.postgres_reads import PostgresRecords
from foss_registry.api.record_cache import RecordCache
from foss_registry.auth.service import StaticToken
from foss_registry.config import Settings
from foss_registry.db import GroupCommit, write_transaction
from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.text_fields import text_problem

T = TypeVar("T")
S = TypeVar("S")

@dataclass
class AppContext:
    """Everything the handlers share, kept in ``app.state.ctx``."""

    settings: Settings
    engine: Engine
    static_tokens: dict[str, StaticToken]
    limiter: CapacityLimiter
    #: Point reads from the event loop; set on SQLite only.
    record_cache: RecordCache | None = None
    #: Record reads from the event loop on PostgreSQL (the fast reads' only; None on SQLite).
    postgres_records: PostgresRecords | None = None
    #: The one writer thread of this process (group commit).
    group_commit: GroupCommit | None = None

    def __post_init__(self) -> None:
        if self.group_commit is None:
            self.group_commit = GroupCommit(self.engine)


def context(request: Request[Any, Any, Any]) -> AppContext:
    """Return the app's shared context."""
    ctx: AppContext = request.app.state.ctx
    return ctx


async def run_db(request: Request[Any, Any, Any], fn: Callable[..., T], *args: Any) -> T:
    """Run blocking database work on the bounded thread pool, off the event loop."""
    return await anyio.to_thread.run_sync(fn, *args, limiter=context(request).limiter)


async def run_write(request: Request[Any, Any, Any], fn: Callable[[Connection], T]) -> T:
    """Run ``fn(conn)`` in a write transaction and return its result once committed.

    The process's writes go through one thread that commits the ones arriving
    together at once (:class:`~foss_registry.db.GroupCommit`), each in its own
    savepoint: one commit (one disk flush) for a burst of submissions, on
    SQLite and on PostgreSQL alike.
    """
    ctx = context(request)
    if ctx.group_commit is not None:
        return await asyncio.wrap_future(ctx.group_commit.submit(fn))

    def work() -> T:
        with write_transaction(ctx.engine) as conn:
            return fn(conn)

    return await run_db(request, work)


async def decode_body(request: Request[Any, Any, Any], schema: type[S]) -> S:
    """Read and validate a JSON body against a Struct; every problem is a clear 400."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise InvalidInputError(
            "Send the body as JSON with the header Content-Type: application/json.",
            code="unsupported_media_type",
        )
    raw = await request.body()
    try:
        body = msgspec.json.decode(raw, type=schema, strict=True)
    except msgspec.ValidationError as exc:
        field, problem = _describe_validation_error(str(exc))
        raise InvalidInputError(
            f"Invalid request body: {problem}.", errors=[FieldError(field, problem)]
        ) from None
    except msgspec.DecodeError as exc:
        raise InvalidInputError(
            f"The body is not valid JSON ({exc}); send a JSON object.", code="invalid_json"
        ) from None
    _refuse_duplicate_keys(raw)
    _check_text_fields(body, "")
    return body


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise InvalidInputError(
                f"The field {key!r} appears more than once in the body; send it once.",
                code="duplicate_field",
                errors=[FieldError(key, "appears more than once")],
            )
        seen[key] = value
    return seen


def _refuse_duplicate_keys(raw: bytes) -> None:
    """Refuse a body naming a field twice (JSON parsers disagree on which one counts)."""
    # msgspec keeps the last of two equal keys silently; the standard library can tell.
    json.loads(raw, object_pairs_hook=_no_duplicates)


def _check_text_fields(value: Any, path: str, multiline: bool = False) -> None:
    """Refuse control characters in every string of a decoded body, naming the field.

    A Struct lists the fields that may hold several lines in ``multiline_fields``.
    """
    if isinstance(value, str):
        problem = text_problem(value, multiline=multiline)
        if problem is not None:
            field = path or "body"
            raise InvalidInputError(
                f"Invalid request body: {field} {problem}.", errors=[FieldError(field, problem)]
            )
    elif isinstance(value, msgspec.Struct):
        multiline_fields: frozenset[str] = getattr(value, "multiline_fields", frozenset())
        for name in value.__struct_fields__:
            _check_text_fields(
                getattr(value, name), f"{path}.{name}" if path else name, name in multiline_fields
            )
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text_fields(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text_fields(key, f"{path} key", False)
            _check_text_fields(item, f"{path}.{key}")


def _describe_validation_error(message: str) -> tuple[str, str]:
    """Split msgspec's message into (field, sentence) for the error format."""
    if " - at `$." in message:
        problem, path = message.rsplit(" - at `$.", 1)
        field = path.rstrip("`")
        return field, f"{field}: {problem[0].lower()}{problem[1:]}"
    if "field `" in message:
        field = message.split("field `", 1)[1].split("`", 1)[0]
        if "unknown field" in message:
            return (
                field,
                f"unknown field {field!r} (response-only or misspelled fields are refused)",
            )
        return field, f"the required field {field!r} is missing"
    return "body", message
