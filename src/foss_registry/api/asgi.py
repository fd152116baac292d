"""ASGI entry point for server processes: ``foss_registry.api.asgi:app`` (a factory)."""

from __future__ import annotations

from litestar import Litestar

from foss_registry.api.app import create_app
from foss_registry.config import get_settings


def app() -> Litestar:
    """Build the app from the environment's settings (called once per server process)."""
    return create_app(get_settings())
