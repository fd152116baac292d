"""Fixtures for functional tests: tokens of each role on the test database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from foss_registry.auth import service as auth
from foss_registry.db import write_transaction


def create_token(engine: Engine, name: str, role: str) -> str:
    """Store a token directly (like `foss token create`) and return its secret."""
    with write_transaction(engine) as conn:
        secret, _ = auth.create_token(conn, name=name, role=role)
    return secret


@pytest.fixture
def tokens(engine: Engine) -> dict[str, str]:
    """One token per role, named alice (submitter), rita (reviewer) and adam (admin)."""
    return {
        "submitter": create_token(engine, "alice", "submitter"),
        "reviewer": create_token(engine, "rita", "reviewer"),
        "admin": create_token(engine, "adam", "admin"),
    }


def key(secret: str) -> dict[str, str]:
    """Headers carrying an API key."""
    return {"X-API-Key": secret}


def submit(client: Any, token: str, **fields: Any) -> Any:
    """POST a submission with a key; fields default to a valid PyPI flask 2.3.0."""
    body = {"name": "flask", "version": "2.3.0", "ecosystem": "pypi"} | fields
    return client.post("/api/v1/packages", json=body, headers=key(token))


#: Debian's Chromium, driven by Playwright (Playwright's own browser download is not used).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="module")
def browser() -> Any:
    """A headless Chromium for tests of pages in a real browser, one per test module.

    Module-scoped: Playwright's sync API keeps an event loop running in the thread while it
    is started, so a session-wide browser would break later tests that call asyncio.run().
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()
