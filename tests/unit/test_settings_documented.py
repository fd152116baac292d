"""Every server setting is documented in the README under its environment variable."""

from __future__ import annotations

from pathlib import Path

from foss_registry.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [
        f"FOSS_{name.upper()}"
        for name in Settings.model_fields
        if f"FOSS_{name.upper()}" not in text
    ]
    assert missing == []
