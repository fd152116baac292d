"""PostgreSQL's per-name search counts stay in step with the versions (migrations 0021, 0024, 0025).

A search on PostgreSQL reads the names described by a word from
``package_name_words`` and sums the versions of the names containing a term
from the per-status counts of their ``package_name_suffixes`` rows, without
reading the versions themselves: a count that drifted would show as a missing
result or a wrong ``total``. These tests rebuild both from the stored versions
after every kind of change, and after the migration's own count of versions
stored before it, and compare; likewise the rows of a kept name term
(migration 0024), from the count that adds it, made while writes go on, and
after every kind of change since.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text

from foss_registry import search_index, storage
from foss_registry.db import make_engine
from foss_registry.packages import postgres_word_sets, search, search_postgres, service
from foss_registry.packages import records as reads
from foss_registry.storage import _alembic_config
from tests.conftest import POSTGRES_URL, empty_database

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="PostgreSQL's own search counts: set FOSS_TEST_POSTGRES_URL (.ci/run does) to run them",
)

ROW = (
    "INSERT INTO package_versions (ecosystem, name, normalized_name, version, "
    "canonical_version, sort_token, purl, status, description, submitted_by, submitted_at, "
    "flags, policy_reasons) VALUES (:e, :n, :n, :v, :v, :v, 'pkg:x', 'pending', :d, 't', "
    "'2026-01-01 00:00:00.000000', '[]', '[]')"
)
STATUSES = ("pending", "approved", "rejected")


def _insert(engine: Engine, ecosystem: str, name: str, version: str, description: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(ROW), {"e": ecosystem, "n": name, "v": version, "d": description})


def _execute(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql))


def _name_words(engine: Engine) -> tuple[dict[Any, int], Counter[Any]]:
    """The stored versions per (word, name, ecosystem), and the versions' own."""
    with engine.connect() as conn:
        stored = {
            (w, n, e): versions
            for w, n, e, versions in conn.execute(text("SELECT * FROM package_name_words"))
        }
        rows = conn.execute(
            text("SELECT ecosystem, normalized_name, description FROM package_versions")
        ).all()
    real = Counter(
        (word, name, ecosystem)
        for ecosystem, name, description in rows
        for word in set(search_index.words(description))
    )
    return stored, real


def _suffix_counts(engine: Engine) -> tuple[dict[Any, set[Any]], dict[Any, set[Any]]]:
    """Per name, the (pending, approved, rejected) its suffix rows carry, and the real ones."""
    with engine.connect() as conn:
        carried: dict[Any, set[Any]] = {}
        for eco, name, *counts in conn.execute(
            text(
                "SELECT ecosystem, normalized_name, pending, approved, rejected "
                "FROM package_name_suffixes"
            )
        ):
            carried.setdefault((eco, name), set()).add(tuple(counts))
        rows = conn.execute(
            text("SELECT ecosystem, normalized_name, status FROM package_versions")
        ).all()
    by_status = Counter(rows)
    names = {(eco, name) for eco, name, _status in rows if len(name) >= search_index.MIN_SUFFIX}
    real = {key: {tuple(by_status[(*key, status)] for status in STATUSES)} for key in names}
    return carried, real


def _assert_in_step(engine: Engine) -> None:
    stored, real = _name_words(engine)
    assert stored == dict(real)
    carried, expected = _suffix_counts(engine)
    assert carried == expected


def _search(engine: Engine, term: str, **filters: str) -> tuple[int, list[tuple[str, str]]]:
    with engine.connect() as conn:
        page = search.list_packages(
            reads.sqlalchemy_reader(conn), "postgresql", search=term, limit=1000, **filters
        )
    return page.total, [(p.name, p.version) for p in page.packages]


@pytest.fixture
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    engine = make_engine(empty_database(request, "postgresql", tmp_path), pool_size=2)
    yield engine
    engine.dispose()


def test_inserts_decisions_and_deletes_keep_the_name_counts_in_step(engine: Engine) -> None:
    _insert(engine, "pypi", "zope-interface", "5.0", "Interfaces for Python")
    _insert(engine, "pypi", "zope-interface", "6.0", "Interfaces for Python, typed")
    _insert(engine, "maven", "org.zope:interface", "1.0", "Zope interfaces for the JVM")
    _insert(engine, "pypi", "typed-ast", "1.5", "A typed AST: fork of ast")
    # "interface" twice in one name: its versions are counted once.
    _insert(engine, "npm", "interface-of-interface", "1.0", "Nothing alike")
    _assert_in_step(engine)
    assert _search(engine, "typed") == (2, [("typed-ast", "1.5"), ("zope-interface", "6.0")])
    assert _search(engine, "interface")[0] == 4

    _execute(engine, "UPDATE package_versions SET description = 'Gone' WHERE version = '6.0'")
    _assert_in_step(engine)
    assert _search(engine, "typed") == (1, [("typed-ast", "1.5")])

    _execute(engine, "UPDATE package_versions SET status = 'approved' WHERE version <> '5.0'")
    _execute(engine, "UPDATE package_versions SET status = 'rejected' WHERE version = '5.0'")
    _assert_in_step(engine)
    assert _search(engine, "interface", status="approved")[0] == 3
    assert _search(engine, "interface", status="rejected") == (1, [("zope-interface", "5.0")])

    _execute(
        engine,
        "UPDATE package_versions SET name = 'zope-iface', normalized_name = 'zope-iface' WHERE version = '5.0'",
    )
    _execute(engine, "DELETE FROM package_versions WHERE ecosystem = 'maven'")
    _assert_in_step(engine)
    assert _search(engine, "interfaces") == (1, [("zope-iface", "5.0")])

    _execute(engine, "DELETE FROM package_versions")
    _assert_in_step(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM package_name_words")).scalar_one() == 0


# The count tables a version's removal from the counts looks up by their keys.
KEYED_COUNTS = ("package_name_statuses", "package_word_status_totals", "package_name_suffixes")


def test_a_decision_and_a_delete_read_only_their_own_count_rows(engine: Engine) -> None:
    # A decision moves a version from one status's counts to another's; a delete takes
    # it out. Each must find its count rows by their keys: reading whole count tables
    # cost a decision 160-460 ms at a million versions (migration 0025). Here 3,000 other
    # names fill the tables; the rows the three writes read must stay a handful.
    # Planned as at scale: with the tables' statistics, sequential scans allowed.
    with engine.begin() as conn:
        conn.execute(
            text(
                ROW.replace(
                    "VALUES (:e, :n, :n, :v, :v, :v,", "SELECT :e, :n || i, :n || i, :v, :v, :v,"
                ).replace("'[]', '[]')", "'[]', '[]' FROM generate_series(1, 3000) AS i")
            ),
            {"e": "pypi", "n": "filler-", "v": "1.0", "d": "Pads strings for Python"},
        )
    _insert(engine, "pypi", "zope-interface", "5.0", "Interfaces for Python")
    _insert(engine, "pypi", "zope-interface", "6.0", "Interfaces for Python, typed")
    _insert(engine, "npm", "left-pad", "1.0", "Pads a string")
    for table in KEYED_COUNTS:
        _execute(engine, f"ANALYZE {table}")
    read = (
        "SELECT relname, seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables "
        f"WHERE relname IN {KEYED_COUNTS!r}"
    )
    with engine.connect() as conn, conn.begin():
        before = dict(conn.execute(text(read)).all())
        conn.execute(text("UPDATE package_versions SET status = 'approved' WHERE version = '6.0'"))
        conn.execute(text("UPDATE package_versions SET status = 'rejected' WHERE version = '6.0'"))
        conn.execute(text("DELETE FROM package_versions WHERE name = 'left-pad'"))
        after = dict(conn.execute(text(read)).all())
    rows_read = {table: after[table] - before[table] for table in KEYED_COUNTS}
    # Each write reads its name's rows (its statuses, words, suffixes): tens, not thousands.
    assert max(rows_read.values()) < 100, rows_read
    _assert_in_step(engine)
    assert _search(engine, "interfaces", status="rejected") == (1, [("zope-interface", "6.0")])
    assert _search(engine, "pads")[0] == 3000


def test_versions_stored_before_the_migration_are_counted() -> None:
    name = f"foss_test_0021_{os.getpid()}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(POSTGRES_URL.rsplit("/", 1)[0] + "/" + name, pool_size=2)
    try:
        storage.upgrade(engine, "0020")
        _insert(engine, "pypi", "requests", "2.0", "HTTP for Humans.")
        _insert(engine, "pypi", "requests", "2.31", "Python HTTP for Humans.")
        _insert(engine, "npm", "http-proxy", "1.18.1", "HTTP proxying for the masses")
        _execute(engine, "UPDATE package_versions SET status = 'approved' WHERE version = '2.0'")
        storage.upgrade(engine)
        _assert_in_step(engine)
        assert _search(engine, "http") == (
            3,
            [("http-proxy", "1.18.1"), ("requests", "2.31"), ("requests", "2.0")],
        )
        assert _search(engine, "humans", status="approved") == (1, [("requests", "2.0")])
        # Down and up again: the counts are made anew.
        config = _alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0020")
        _insert(engine, "pypi", "httpx", "0.27", "A next generation HTTP client")
        storage.upgrade(engine)
        _assert_in_step(engine)
        assert _search(engine, "http")[0] == 4
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


SET = {"set_key": "for library", "word_list": ["for", "library"], "rarest": "for", "most": 1000}


def _set_totals(engine: Engine) -> tuple[dict[Any, int], Counter[Any]]:
    """The kept totals of SET (without the emptied ones), and the versions' own."""
    with engine.connect() as conn:
        stored = {
            (e, s): versions
            for w, e, s, versions in conn.execute(text("SELECT * FROM package_word_set_totals"))
            if versions and w == SET["set_key"]
        }
        rows = conn.execute(
            text("SELECT description, ecosystem, status FROM package_versions")
        ).all()
    real = Counter(
        (ecosystem, status)
        for description, ecosystem, status in rows
        if search_index.has_words(description, SET["word_list"])
    )
    return stored, real


def _write_without_waiting(engine: Engine, *statements: str) -> None:
    """Run writes that fail, rather than wait, if the versions are locked against them."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '5s'"))
        for sql in statements:
            conn.execute(
                text(sql), {"e": "pypi", "n": "late", "v": "1.0", "d": "A library for later"}
            )


def test_writes_go_on_while_a_set_is_counted_and_its_totals_are_exact(engine: Engine) -> None:
    for n in range(6):
        _insert(
            engine, "pypi", f"lib{n}", "1.0", "The library for everything" if n % 3 else "For it"
        )
    _execute(
        engine, "UPDATE package_versions SET status = 'approved' WHERE normalized_name = 'lib1'"
    )
    database = postgres_word_sets.conninfo(engine.url)
    count = postgres_word_sets.SetCount.start(database, SET)
    assert count is not None
    try:
        # The set is added, its count not made yet: writes are not held off, and
        # searches count it the long way.
        _write_without_waiting(
            engine,
            ROW,
            "UPDATE package_versions SET status = 'rejected' WHERE normalized_name = 'lib2'",
            "DELETE FROM package_versions WHERE normalized_name = 'lib4'",
        )
        assert _search(engine, "library for")[0] == 4
        count.count()
        _write_without_waiting(engine, "UPDATE package_versions SET description = 'Gone'")
        _insert(engine, "npm", "late-lib", "2.0", "library, for now")
        assert count.finish()
    finally:
        count.close()
    stored, real = _set_totals(engine)
    assert stored == dict(real) == {("npm", "pending"): 1}
    assert _search(engine, "library for") == (1, [("late-lib", "2.0")])


def test_a_second_count_of_a_set_takes_the_first_over(engine: Engine) -> None:
    _insert(engine, "pypi", "lib", "1.0", "The library for everything")
    database = postgres_word_sets.conninfo(engine.url)
    first = postgres_word_sets.SetCount.start(database, SET)
    assert first is not None
    try:
        _insert(engine, "pypi", "lib", "2.0", "Another library for everything")
        second = postgres_word_sets.SetCount.start(database, SET)
        assert second is not None
        try:
            first.count()
            assert not first.finish()
            _insert(engine, "pypi", "lib", "3.0", "A third library for all")
            second.count()
            assert second.finish()
        finally:
            second.close()
    finally:
        first.close()
    stored, real = _set_totals(engine)
    assert stored == dict(real) == {("pypi", "pending"): 3}
    # Kept already: nothing more to do.
    assert postgres_word_sets.SetCount.start(database, SET) is None


def test_a_search_of_common_words_keeps_their_set(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "KEPT_SETS_FROM", 1)
    for n in range(3):
        _insert(engine, "pypi", f"lib{n}", "1.0", "The library for everything")
    with engine.connect() as conn:
        page = service.list_packages(conn, search="library for")
    assert page.total == 3
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT words, counting FROM package_word_sets")).all()
    assert [tuple(row) for row in kept] == [("for library", None)]
    stored, real = _set_totals(engine)
    assert stored == dict(real) == {("pypi", "pending"): 3}


TERM = {"term": "interface", "most": 1000}


def _term_rows(engine: Engine) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """The kept rows of TERM (names and non-zero totals), and those the versions make."""
    term = TERM["term"]
    with engine.connect() as conn:
        names = {
            (place, name, eco): tuple(counts)
            for _t, place, name, eco, *counts in conn.execute(
                text("SELECT * FROM package_name_term_names WHERE term = :t"), {"t": term}
            )
        }
        totals = {
            (eco, status): versions
            for _t, eco, status, versions in conn.execute(
                text("SELECT * FROM package_name_term_totals WHERE term = :t"), {"t": term}
            )
            if versions
        }
        rows = conn.execute(
            text("SELECT ecosystem, normalized_name, status FROM package_versions")
        ).all()
    by_status = Counter((eco, name, status) for eco, name, status in rows if term in name.lower())
    real_names = {
        (
            0 if name.lower() == term else 1 if name.lower().startswith(term) else 2,
            name,
            eco,
        ): tuple(by_status[(eco, name, status)] for status in STATUSES)
        for eco, name, _status in by_status
    }
    real_totals: Counter[Any] = Counter()
    for (eco, _name, status), n in by_status.items():
        real_totals[eco, status] += n
    return {"names": names, "totals": totals}, {"names": real_names, "totals": dict(real_totals)}


def _assert_term_in_step(engine: Engine) -> None:
    stored, real = _term_rows(engine)
    assert stored == real


def test_a_kept_term_stays_in_step_while_counted_and_after(engine: Engine) -> None:
    _insert(engine, "pypi", "zope-interface", "5.0", "Interfaces for Python")
    _insert(engine, "pypi", "interface", "1.0", "The name itself")
    # Twice in one name, and capitals (npm keeps them): one row, by the lower-cased name.
    _insert(engine, "npm", "interface-of-interface", "1.0", "Nothing alike")
    _insert(engine, "npm", "MyInterfaces", "2.0", "Capitals")
    _insert(engine, "pypi", "unrelated", "1.0", "An interface, described")
    database = postgres_word_sets.conninfo(engine.url)
    count = postgres_word_sets.TermCount.start(database, TERM)
    assert count is not None
    try:
        # Added, not counted yet: writes go on, searches read the suffixes.
        _write_without_waiting(
            engine,
            "UPDATE package_versions SET status = 'approved' WHERE normalized_name = 'interface'",
            "DELETE FROM package_versions WHERE normalized_name = 'interface-of-interface'",
        )
        _insert(engine, "pypi", "zope-interface", "6.0", "Interfaces, typed")
        assert _search(engine, "interface")[0] == 5
        count.count()
        _insert(engine, "maven", "org.zope:interface", "1.0", "Zope interfaces for the JVM")
        _execute(engine, "DELETE FROM package_versions WHERE normalized_name = 'MyInterfaces'")
        assert count.finish()
    finally:
        count.close()
    _assert_term_in_step(engine)
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT term, counting FROM package_name_terms")).all()
    assert [tuple(row) for row in kept] == [("interface", None)]
    assert _search(engine, "interface") == (
        5,
        [
            ("interface", "1.0"),
            ("org.zope:interface", "1.0"),
            ("unrelated", "1.0"),
            ("zope-interface", "6.0"),
            ("zope-interface", "5.0"),
        ],
    )

    # Kept: every kind of change keeps its rows in step, and searches read them.
    _execute(engine, "UPDATE package_versions SET status = 'rejected' WHERE version = '5.0'")
    _insert(engine, "npm", "MyInterfaces", "3.0", "Back, with capitals")
    _execute(
        engine,
        "UPDATE package_versions SET name = 'interfaces', normalized_name = 'interfaces' "
        "WHERE normalized_name = 'interface'",
    )
    _execute(engine, "DELETE FROM package_versions WHERE ecosystem = 'maven'")
    _assert_term_in_step(engine)
    assert _search(engine, "interface") == (
        5,
        [
            ("interfaces", "1.0"),
            ("MyInterfaces", "3.0"),
            ("unrelated", "1.0"),
            ("zope-interface", "6.0"),
            ("zope-interface", "5.0"),
        ],
    )
    assert _search(engine, "interface", status="rejected") == (1, [("zope-interface", "5.0")])
    assert _search(engine, "interface", ecosystem="npm") == (1, [("MyInterfaces", "3.0")])
    _execute(engine, "DELETE FROM package_versions")
    _assert_term_in_step(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM package_name_term_names")).scalar_one() == 0


def test_a_search_of_a_term_inside_many_names_keeps_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_postgres, "KEPT_TERMS_FROM", 2)
    for name in ("interface", "zope-interface", "typed-interfaces"):
        _insert(engine, "pypi", name, "1.0", "Interfaces")
    # A term inside one name is read from its suffixes, not kept.
    assert _search(engine, "typed")[0] == 1
    with engine.connect() as conn:
        page = service.list_packages(conn, search="interface")
    assert page.total == 3
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT term, counting FROM package_name_terms")).all()
    assert [tuple(row) for row in kept] == [("interface", None)]
    _assert_term_in_step(engine)
    # A second count of a kept term is not started.
    assert postgres_word_sets.TermCount.start(postgres_word_sets.conninfo(engine.url), TERM) is None
