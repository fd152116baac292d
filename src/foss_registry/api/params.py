"""Integer parameters of the API: written in ASCII digits, and bounded.

Every integer a route takes in its query has a lower and an upper bound,
declared on the parameter (so the OpenAPI document and the 400 answer state
them) and listed in the README. The framework alone would read ``1e3`` or
``5.0`` as numbers (its lax conversion of query strings); :func:`strict_integers`
runs after routing and refuses any spelling of an integer parameter other than
ASCII digits without leading zeros, and any value outside its bounds, naming
every such parameter in one answer, before the framework converts it. The
SQLite fast reads parse ``limit`` and ``offset`` with :func:`parse_digits`, the
same rule.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

from litestar.params import Parameter, ParameterKwarg

from foss_registry.errors import FieldError, InvalidInputError

#: Most results of one page.
MAX_LIMIT = 1000
#: Highest pagination offset (a billion: beyond any table here, within every database's
#: integers).
MAX_OFFSET = 1_000_000_000

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description=f"Max results (1-{MAX_LIMIT}).")]
Offset = Annotated[
    int, Parameter(ge=0, le=MAX_OFFSET, description=f"Pagination offset (0-{MAX_OFFSET:_}).")
]

#: Highest id of a stored record in a path (PostgreSQL's INTEGER).
MAX_RECORD_ID = 2**31 - 1
#: A record's id in a path, routed as text so that any value reaches its handler: the
#: handler checks the key and the role first, then reads the id with :func:`record_id`
#: (400 naming the parameter unless it is ASCII digits in 1-MAX_RECORD_ID).
RecordId = Annotated[
    str,
    Parameter(description=f"A record's id (ASCII digits, 1-{MAX_RECORD_ID})."),
]

_DIGITS = re.compile(r"(?:0|[1-9][0-9]*)")
# Where the names of a handler's integer query parameters are cached.
_CACHE_ATTRIBUTE = "_foss_integer_parameters"


def parse_digits(text: str, low: int, high: int) -> int | None:
    """``text`` as an integer in ``[low, high]``, or None unless it is plain ASCII digits there."""
    if len(text) > len(str(high)) or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def record_id(name: str, text: str) -> int:
    """The record id ``text`` of the path parameter ``name``, or a 400 naming the parameter."""
    value = parse_digits(text, 1, MAX_RECORD_ID)
    if value is None:
        raise InvalidInputError(
            f"Invalid parameter {name}: {text[:40]!r} is not a record id (ASCII digits, "
            f"1-{MAX_RECORD_ID}).",
            errors=[FieldError(name, f"must be a record id in ASCII digits, 1-{MAX_RECORD_ID}")],
        )
    return value


def integer_parameters(handler: Any) -> dict[str, tuple[int | None, int | None]]:
    """A route handler's integer query parameters and their bounds (cached on the handler)."""
    cached: dict[str, tuple[int | None, int | None]] | None = getattr(
        handler, _CACHE_ATTRIBUTE, None
    )
    if cached is not None:
        return cached
    found: dict[str, tuple[int | None, int | None]] = {}
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        # A query parameter: declared with Parameter() and not read from a header or cookie.
        if not isinstance(kwarg, ParameterKwarg) or kwarg.header or kwarg.cookie:
            continue
        if field.is_subclass_of(int) and not field.is_subclass_of(bool):
            low = None if kwarg.ge is None else int(kwarg.ge)
            high = None if kwarg.le is None else int(kwarg.le)
            found[kwarg.query or name] = (low, high)
    setattr(handler, _CACHE_ATTRIBUTE, found)
    return found


def check_integer_parameters(
    query_string: bytes, bounds: dict[str, tuple[int | None, int | None]]
) -> None:
    """Refuse integer parameters not in ASCII digits or outside their bounds (400, all named)."""
    if not bounds or not query_string:
        return
    text = query_string.decode("latin-1")
    pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace")
    # Every bad one is named, not only the first: a spelling and a bound at once too.
    spelled = [(k, v) for k, v in pairs if k in bounds and not _DIGITS.fullmatch(v)]
    outside = [
        (key, value, *bounds[key])
        for key, value in pairs
        if key in bounds and _DIGITS.fullmatch(value) and _outside(value, *bounds[key])
    ]
    if not spelled and not outside:
        return
    parts = [f"{key}: {value[:40]!r} is not an integer" for key, value in spelled]
    parts += [
        f"{key}: {value[:40]} is not {_range(low, high)}" for key, value, low, high in outside
    ]
    detail = f"Invalid parameter {'; '.join(parts)}"
    if spelled:
        detail += (
            f"; write {'it' if len(spelled) == 1 else 'them'} in ASCII digits (0-9) without "
            "a sign, exponent, decimals or leading zeros"
        )
    raise InvalidInputError(
        detail + ".",
        errors=[FieldError(k, "must be an integer written in ASCII digits") for k, _ in spelled]
        + [FieldError(k, f"must be {_range(lo, hi)}") for k, _, lo, hi in outside],
    )


def _outside(digits: str, low: int | None, high: int | None) -> bool:
    if len(digits) > 40:
        # Beyond every bound here, and not worth converting (int() of long digits is slow).
        return high is not None
    number = int(digits)
    return (low is not None and number < low) or (high is not None and number > high)


def _range(low: int | None, high: int | None) -> str:
    if high is None:
        return f"at least {low:,}"
    if low is None:
        return f"at most {high:,}"
    return f"in {low:,}-{high:,}"


def strict_integers(app: Any) -> Any:
    """Litestar middleware factory: integer query parameters in ASCII digits only."""

    async def check(scope: Any, receive: Any, send: Any) -> None:
        handler = scope.get("route_handler")
        if scope["type"] == "http" and handler is not None:
            check_integer_parameters(scope.get("query_string", b""), integer_parameters(handler))
            check_path_integers(scope)
        await app(scope, receive, send)

    return check


def check_path_integers(scope: Any) -> None:
    """Refuse an integer path parameter not written in ASCII digits (the router's int() is lax)."""
    template: str = scope.get("path_template") or ""
    params = scope.get("path_params") or {}
    if not any(isinstance(v, int) and not isinstance(v, bool) for v in params.values()):
        return
    segments = scope["path"].split("/")
    for position, part in enumerate(template.split("/")):
        name = part[1:-1] if part.startswith("{") and part.endswith("}") else None
        value = params.get(name) if name else None
        raw = segments[position] if position < len(segments) else ""
        if isinstance(value, int) and not _DIGITS.fullmatch(raw):
            raise InvalidInputError(
                f"Invalid parameter {name}: {raw[:40]!r} is not an integer written in ASCII "
                "digits.",
                errors=[FieldError(str(name), "must be an integer written in ASCII digits")],
            )
