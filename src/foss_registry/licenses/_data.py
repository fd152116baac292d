"""Loading of the small knowledge files in ``licenses/data`` (packaged with the code)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> dict[str, Any]:
    """Return the parsed ``data/<name>.toml``; cached because the files never change at run time."""
    text = (
        resources.files("foss_registry.licenses")
        .joinpath("data")
        .joinpath(f"{name}.toml")
        .read_text(encoding="utf-8")
    )
    return tomllib.loads(text)
