"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from foss_registry import storage
from foss_registry.models import metadata

# Objects the migrations add on purpose that the models do not describe.
SEARCH_INDEX_OBJECTS = {
    "package_name_suffixes",
    "name_suffix_positions",
    "package_description_words",
    "package_word_totals",
    "ix_package_versions_description_words",
    "ix_package_versions_name_trgm",
}


def _relevant(diff: object) -> bool:
    text = repr(diff)
    return not any(name in text for name in SEARCH_INDEX_OBJECTS)


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = [d for d in compare_metadata(context, metadata) if _relevant(d)]
    assert differences == []


def test_database_is_at_the_newest_revision(engine: Engine) -> None:
    assert storage.is_current(engine)
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables


def test_upgrade_is_idempotent(engine: Engine) -> None:
    before = storage.current_revision(engine)
    storage.upgrade(engine)
    assert storage.current_revision(engine) == before == storage.head_revision()
