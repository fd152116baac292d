"""``/packages``: list, search, show and submit package versions."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, Parameter
from sqlalchemy import Connection

from foss_registry.api.deps import context, run_db, run_write
from foss_registry.api.params import Limit, Offset
from foss_registry.api.roles import Actor, requires
from foss_registry.api.v1.schemas import PackageSubmission
from foss_registry.db import read_connection
from foss_registry.intake.service import submit_package
from foss_registry.packages import service as packages
from foss_registry.packages.records import PackageList, PackageRecord

#: Bounds of the query parameters (the SQLite fast reads check the same ones).
MAX_SEARCH = 255
MAX_FILTER = 32
MAX_VERSION = 128


@get("/packages", summary="List or search package versions", tags=["packages"])
async def list_packages(
    request: Request[Any, Any, Any],
    search: Annotated[
        str | None, Parameter(max_length=MAX_SEARCH, description="Search term")
    ] = None,
    ecosystem: Annotated[
        str | None, Parameter(description="pypi, npm, maven or docker", max_length=MAX_FILTER)
    ] = None,
    status: Annotated[
        str | None, Parameter(description="pending, approved or rejected", max_length=MAX_FILTER)
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PackageList:
    """List package versions, optionally searched and filtered; ``total`` counts all matches."""
    engine = context(request).engine

    def work() -> PackageList:
        with read_connection(engine) as conn:
            return packages.list_packages(
                conn, search=search, ecosystem=ecosystem, status=status, limit=limit, offset=offset
            )

    return await run_db(request, work)


@get(
    "/packages/{name:path}",
    summary="Get one package version",
    tags=["packages"],
    description=(
        "The name may contain '/' (npm scopes, Docker repositories). Without `version`, "
        "the highest version by the ecosystem's ordering; a name in two ecosystems needs "
        "`ecosystem`."
    ),
    # The body is encoded by hand (hot path); the schema is still PackageRecord.
    responses={200: ResponseSpec(PackageRecord, description="The version's full record")},
)
async def get_package(
    request: Request[Any, Any, Any],
    name: FromPath[str],
    ecosystem: Annotated[str | None, Parameter(max_length=MAX_FILTER)] = None,
    version: Annotated[str | None, Parameter(max_length=MAX_VERSION)] = None,
) -> Response[bytes]:
    """Return the selected version's full record."""
    ctx = context(request)
    name = name.lstrip("/")
    if ctx.record_cache is not None:
        return Response(
            ctx.record_cache.record_json(name, ecosystem, version), media_type=MediaType.JSON
        )

    def work() -> PackageRecord:
        with read_connection(ctx.engine) as conn:
            return packages.get_record(conn, name, ecosystem=ecosystem, version=version)

    record = await run_db(request, work)
    return Response(msgspec.json.encode(record), media_type=MediaType.JSON)


def package_location(record: PackageRecord) -> str:
    """Return the URL path of a version's record, for the ``Location`` header."""
    query = urlencode({"ecosystem": record.ecosystem, "version": record.version})
    return f"/api/v1/packages/{quote(record.name, safe='/@:')}?{query}"


@post(
    "/packages",
    summary="Submit a package version for review",
    tags=["packages"],
    status_code=201,
    description="Needs a submitter key when auth is on; 409 if the version exists.",
    **requires("submitter", body=PackageSubmission),
)
async def submit(
    request: Request[Any, Any, Any], payload: NamedDependency[PackageSubmission], actor: Actor
) -> Response[PackageRecord]:
    """Store a new version as pending and queue its scan."""

    def work(conn: Connection) -> PackageRecord:
        return submit_package(conn, payload, actor.name)

    record = await run_write(request, work)
    # Encoded as the detail read encodes it, so the two answers are the same bytes.
    return Response(
        msgspec.json.encode(record),  # type: ignore[arg-type]
        media_type=MediaType.JSON,
        status_code=201,
        headers={"Location": package_location(record)},
    )
