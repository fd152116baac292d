"""Schema management: upgrade a database to the newest migration, check it is current, optimise."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    """Return the newest migration revision shipped with this code."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (the newest by default)."""
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def is_current(engine: Engine) -> bool:
    """True when the database schema is at the newest migration."""
    return current_revision(engine) == head_revision()


def optimize(engine: Engine) -> list[str]:
    """Refresh the query planner's statistics; return what was done.

    After a bulk load the planner knows nothing of the new rows; ``ANALYZE``
    tells it how selective each index is (both backends keep their search
    indexes merged themselves).
    """
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return ["refreshed the query planner's statistics"]
