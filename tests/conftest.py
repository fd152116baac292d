"""Shared test fixtures: paths to the real public data, and (later) databases and servers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Real public data (OSV, SPDX, OSADL, scanner outputs), kept outside the repository.
SHARED_DATA = Path(os.environ.get("FOSS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the shared real data; the suite fails loudly if it is missing."""
    assert SHARED_DATA.is_dir(), f"shared data not found at {SHARED_DATA} (set FOSS_SHARED_DATA)"
    return SHARED_DATA
