"""`/docs` in a real browser: the OpenAPI 3.1 reference renders every operation, offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import empty_database
from tests.functional.server.conftest import ServerProcess, start_server

#: Where the screenshot of the rendered page is kept for a person to look at.
SCREENSHOT = "docs-page.png"


@pytest.fixture
def docs_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """A real server (the page does not depend on the database: SQLite only)."""
    url = empty_database(request, "sqlite", tmp_path)
    proc = start_server(tmp_path, {"FOSS_DATABASE_URL": url})
    yield proc
    proc.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser tab (own cookies and cache), closed after the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def _operations(server: ServerProcess) -> list[tuple[str, str]]:
    document = httpx.get(f"{server.url}/api/v1/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.1")
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch", "head", "options"}
    ]


def test_docs_lists_every_operation_with_local_assets_only(
    docs_server: ServerProcess, page: Any, tmp_path: Path
) -> None:
    server = docs_server
    origin = urlsplit(server.url).netloc
    requests: list[str] = []
    failures: list[str] = []
    console_errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfailed", lambda request: failures.append(request.url))
    page.on(
        "console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None
    )

    page.goto(f"{server.url}/docs", wait_until="networkidle")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    page.screenshot(path=str(tmp_path / SCREENSHOT), full_page=True)

    body = page.inner_text("body")
    assert "Unable to render" not in body
    assert "FOSS Registry" in body
    assert "OAS 3.1" in body
    blocks = page.query_selector_all(".opblock-summary")
    shown = {
        (
            block.query_selector(".opblock-summary-method").inner_text().strip(),
            block.query_selector(".opblock-summary-path").inner_text().strip().replace("\u200b", ""),
        )
        for block in blocks
    }
    expected = set(_operations(server))
    assert len(expected) >= 19
    # Every operation is on the page with its method and path, visible before any click.
    assert shown == expected, (sorted(expected - shown), sorted(shown - expected))
    assert all(block.is_visible() for block in blocks)

    # Everything the page loaded came from the server itself.
    assert requests, "the page made no requests"
    outside = [url for url in requests if urlsplit(url).netloc != origin]
    assert outside == []
    assert f"{server.url}/docs/assets/swagger-ui-bundle.js" in requests
    assert f"{server.url}/api/v1/openapi.json" in requests
    assert failures == []
    assert console_errors == []


def test_docs_assets_are_served_locally_with_their_license(docs_server: ServerProcess) -> None:
    with httpx.Client(base_url=docs_server.url, timeout=10) as client:
        script = client.get("/docs/assets/swagger-ui-bundle.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert "SwaggerUIBundle" in script.text
        license_text = client.get("/docs/assets/LICENSE")
        assert license_text.status_code == 200 and "Apache License" in license_text.text
        # Only the page's own files: nothing else of the package is reachable.
        assert client.get("/docs/assets/swagger-editor-bundle.js").status_code == 404
        assert client.get("/docs/assets/..%2F__init__.py").status_code == 404
