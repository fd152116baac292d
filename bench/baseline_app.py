"""The benchmark baseline: a minimal Starlette app answering a constant JSON body.

Served by the same server (Granian) with the same worker count as the registry,
so the ratio printed by the benchmarks shows the registry's own cost.
"""

from __future__ import annotations

import json
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

#: Size of the body to answer, set by the benchmark to match the endpoint measured.
BODY_SIZE = int(os.environ.get("BASELINE_BODY_SIZE", "600"))
_BODY = json.dumps({"name": "x", "pad": "p" * max(0, BODY_SIZE - 24)}).encode()


async def constant(_request: Request) -> Response:
    """Answer the same JSON body to every request."""
    return Response(_BODY, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", constant, methods=["GET", "POST"])])
