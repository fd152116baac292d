"""Reading an earlier migration from a later one.

A migration's downgrade may have to put back what an earlier revision made,
to the letter: it loads that revision's module (``versions/`` is not a
package, so by its file) and reads the statements it ran.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

VERSIONS = Path(__file__).parent / "versions"


def load_revision(file_name: str) -> ModuleType:
    """Return the migration module in ``versions/`` named ``file_name``, freshly loaded."""
    path = VERSIONS / file_name
    spec = importlib.util.spec_from_file_location(f"foss_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
