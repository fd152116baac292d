"""SQLite's name suffix index stays in step with the package versions it indexes.

Name search on SQLite reads ``package_name_suffixes`` (migration 0003); these
tests prove it is filled for names already stored when the migration runs, by
every later insert, and emptied when a name's last version goes.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from foss_registry import storage
from foss_registry.db import make_engine
from foss_registry.packages import records as reads
from foss_registry.packages import search

ROW = (
    "INSERT INTO package_versions (ecosystem, name, normalized_name, version, "
    "canonical_version, sort_token, purl, status, submitted_by, submitted_at, flags, "
    "policy_reasons) VALUES (:e, :n, :n, :v, :v, :v, 'pkg:x', 'pending', 't', "
    "'2026-01-01 00:00:00.000000', '[]', '[]')"
)


def _insert(engine: Engine, ecosystem: str, name: str, version: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(ROW), {"e": ecosystem, "n": name, "v": version})


def _names(engine: Engine, term: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        page = search.list_packages(reads.sqlalchemy_reader(conn), "sqlite", search=term)
    return sorted({(p.ecosystem, p.name) for p in page.packages})


def _suffix_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM package_name_suffixes")).scalar_one())


def test_names_stored_before_the_migration_are_found(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        storage.upgrade(engine, "0002")
        _insert(engine, "pypi", "requests-oauthlib", "1.0")
        _insert(engine, "pypi", "requests-oauthlib", "2.0")
        _insert(engine, "npm", "oauth", "0.10.0")
        storage.upgrade(engine)
        assert _names(engine, "oauth") == [("npm", "oauth"), ("pypi", "requests-oauthlib")]
        assert _names(engine, "sts-oa") == [("pypi", "requests-oauthlib")]
        # One row per distinct suffix of three characters or more, not per version.
        assert _suffix_rows(engine) == len("requests-oauthlib") - 2 + len("oauth") - 2
        storage.upgrade(engine, "0002")
        storage.upgrade(engine)
        assert _names(engine, "oauth") == [("npm", "oauth"), ("pypi", "requests-oauthlib")]
    finally:
        engine.dispose()


def test_inserts_and_deletes_keep_the_index_in_step(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        storage.upgrade(engine)
        _insert(engine, "pypi", "zope-interface", "5.0")
        _insert(engine, "pypi", "zope-interface", "6.0")
        _insert(engine, "maven", "org.zope:interface", "1.0")
        assert _names(engine, "interface") == [
            ("maven", "org.zope:interface"),
            ("pypi", "zope-interface"),
        ]
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM package_versions WHERE version = '5.0'"))
        # Another version still carries the name.
        assert ("pypi", "zope-interface") in _names(engine, "interface")
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM package_versions WHERE ecosystem = 'pypi'"))
        assert _names(engine, "interface") == [("maven", "org.zope:interface")]
        assert _suffix_rows(engine) == len("org.zope:interface") - 2
    finally:
        engine.dispose()
