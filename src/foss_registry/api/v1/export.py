"""``GET /export``: the approved catalogue as CycloneDX 1.5 JSON, pip constraints, or CSV."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get
from litestar.params import Parameter

from foss_registry.api.deps import context, run_db
from foss_registry.db import read_connection
from foss_registry.exports import service as exports


@get(
    "/export",
    summary="Export the approved catalogue",
    tags=["export"],
    # Documents the answer's media types in the OpenAPI (see foss_registry.api.openapi).
    media_types=list(exports.MEDIA_TYPES.values()),
    description=(
        "Public. `format=cyclonedx` (default): a CycloneDX 1.5 JSON BOM of every approved "
        "version with purls and licenses; `constraints`: a pip constraints file with the "
        "highest approved version of each PyPI package; `csv`: one line per approved version. "
        "`ecosystem` narrows cyclonedx and csv."
    ),
)
async def export(
    request: Request[Any, Any, Any],
    format: Annotated[
        str, Parameter(max_length=32, description="cyclonedx, constraints or csv")
    ] = "cyclonedx",
    ecosystem: Annotated[
        str | None, Parameter(max_length=32, description="pypi, npm, maven or docker")
    ] = None,
) -> Response[bytes]:
    """Return the export as a download."""
    fmt = exports.validate_format(format)
    engine = context(request).engine

    def work() -> bytes:
        with read_connection(engine) as conn:
            document = exports.export(conn, fmt, ecosystem=ecosystem)
        if isinstance(document, dict):
            return msgspec.json.encode(document)
        return document.encode()

    return Response(
        await run_db(request, work),
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{exports.FILE_NAMES[fmt]}"'},
    )
