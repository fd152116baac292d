"""ASGI entry point for server processes: ``foss_registry.api.asgi:app`` (a factory)."""

from __future__ import annotations

import gc

from foss_registry.api.app import create_app
from foss_registry.api.middleware import ServedApp
from foss_registry.config import get_settings
from foss_registry.logs import setup_logging


def app() -> ServedApp:
    """Build the app from the environment's settings (called once per server process)."""
    settings = get_settings()
    setup_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    # What start-up built lives as long as the process: keep the garbage
    # collector from walking it again on every full collection.
    gc.collect()
    gc.freeze()
    return app
