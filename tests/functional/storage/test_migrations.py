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
    "package_name_prefix_totals",
    "package_word_sets",
    "package_name_statuses",
    "package_word_set_totals",
    "package_word_set_names",
    "package_word_status_totals",
    "package_name_words",
    "package_name_terms",
    "package_name_term_names",
    "package_name_term_totals",
    "search_words",
    "ix_package_versions_description_words",
    "ix_package_versions_name_trgm",
    # Descending columns, which SQLite's reflection gives back as expressions.
    "ix_package_versions_status_name",
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


def test_maven_sort_tokens_are_written_again_by_migration_0012(engine: Engine) -> None:
    from alembic import command
    from sqlalchemy import text

    from foss_registry.db import write_transaction
    from foss_registry.ecosystems.maven import parse_version
    from foss_registry.storage import _alembic_config

    versions = ["3.7.0.rc.3", "3.7.0", "3.5.0.Beta-1", "3.5.0-Final", "1.0.0"]
    with write_transaction(engine) as conn:
        for n, version in enumerate(versions):
            conn.execute(
                text(
                    "INSERT INTO package_versions (ecosystem, name, normalized_name, version, "
                    "canonical_version, sort_token, purl, status, submitted_by, submitted_at, "
                    "flags, policy_reasons) VALUES ('maven', 'g:a', 'g:a', :v, :c, :t, 'pkg', "
                    "'pending', 'x', CURRENT_TIMESTAMP, '[]', '[]')"
                ),
                {"v": version, "c": f"c{n}", "t": "stale"},
            )
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0011")
        command.upgrade(config, "head")
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT version, sort_token FROM package_versions")).all())
    assert stored == {v: parse_version(v).token for v in versions}
    assert sorted(versions, key=stored.__getitem__) == [
        "1.0.0",
        "3.5.0.Beta-1",
        "3.5.0-Final",
        "3.7.0.rc.3",
        "3.7.0",
    ]
