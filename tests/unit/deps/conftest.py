"""Shared fixtures of the dependency-file parser tests."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "deps"


@pytest.fixture(scope="session")
def deps_fixtures() -> Path:
    """Folder of the dependency-file fixtures (see its README)."""
    return FIXTURES
