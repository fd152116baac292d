"""The API reference at ``/docs``: Swagger UI 5 over the OpenAPI 3.1 document, served locally.

The assets come from the ``swagger-ui-py`` package, which ships Swagger UI's
built files with their license (Apache-2.0); only the few the page needs are
served, from ``/docs/assets/``. Nothing is loaded from another origin: the
online validator badge is off, and the page's CSP allows only this origin.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from litestar import MediaType, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

OPENAPI_URL = "/api/v1/openapi.json"

#: The files of Swagger UI the page uses, with their media types.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "LICENSE": "text/plain; charset=utf-8",
}

# docExpansion "list": every operation's method and path is shown without a click.
_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>FOSS Registry API v1</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: "{OPENAPI_URL}",
  dom_id: "#swagger-ui",
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  deepLinking: true,
  displayRequestDuration: true,
  validatorUrl: null
}});
</script>
</body></html>"""


@cache
def assets_dir() -> Path:
    """The folder of Swagger UI's files inside the installed ``swagger-ui-py`` package."""
    # Found without importing the package (its import loads Jinja and its framework handlers).
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@get("/docs", include_in_schema=False, media_type=MediaType.HTML)
async def docs_page() -> str:
    """The interactive API reference."""
    return _PAGE


@get("/docs/assets/{name:str}", include_in_schema=False)
async def docs_asset(name: FromPath[str]) -> File:
    """One of the page's Swagger UI files."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFoundException(f"No documentation asset {name!r}.")
    return File(
        path=assets_dir() / name,
        media_type=media_type,
        content_disposition_type="inline",
    )
