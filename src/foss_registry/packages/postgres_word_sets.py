"""PostgreSQL's kept word sets, added without holding writes off while they are counted.

A search of several common words counts its matches from the kept counts of
its word set (``package_word_sets`` and ``package_word_set_totals``,
migration 0019), which the trigger on ``package_versions`` keeps in step with
every change once the set is there. Adding a set means counting the versions
that have its words: seconds at a million versions. The set used to be added
and counted in one function holding a ``SHARE`` lock on the versions
throughout, so every submission waited for the count (4-11 s at a million
versions). Now, as SQLite's sets are kept (:mod:`.word_sets`), the lock is
held only while the set row is added, and the count is made in a snapshot:

1. A writing connection takes the ``SHARE`` lock (waiting only for the writes
   under way), adds the set with ``counting`` set to a token of its own, and
   before it commits a second connection opens a ``REPEATABLE READ`` snapshot.
   Nothing can change the versions in between, so the snapshot is the versions
   as of that commit; from that commit on, the trigger adds every change to the
   set's totals.
2. The versions of the snapshot are counted, writers carrying on meanwhile.
3. The count is added to the totals and ``counting`` cleared, in one short
   transaction: the totals are then exact, and searches use them
   (``counting IS NULL``). A set found still being counted (by another process,
   or one that died) is taken over: its totals restart from this commit, and
   the other count, when it ends, finds the token changed and is dropped.

What is kept is bounded: at most ``most`` sets (the search passes
:data:`foss_registry.packages.word_sets.MAX_SETS`).

A name term asked for often is kept the same way (:class:`TermCount`,
migration 0024): the names containing it, in the page's order, with their
versions per status, and their totals per ecosystem and status, counted from
the term's range of ``package_name_suffixes`` in the snapshot, while the
trigger adds every change from the commit that added the term on.
"""

from __future__ import annotations

import secrets
from typing import Any, Self

import psycopg

from foss_registry.packages.models import STATUSES

_LOCK = "LOCK TABLE package_versions IN SHARE MODE"
_COUNTING = "SELECT counting FROM package_word_sets WHERE words = %(words)s"
_ADD_SET = (
    "INSERT INTO package_word_sets (words, word_list, rarest, counting) "
    "SELECT %(words)s, %(word_list)s, %(rarest)s, %(token)s "
    "WHERE (SELECT count(*) FROM package_word_sets) < %(most)s ON CONFLICT (words) DO NOTHING"
)
_TAKE_OVER = (
    "UPDATE package_word_sets SET counting = %(token)s WHERE words = %(words)s",
    "DELETE FROM package_word_set_totals WHERE words = %(words)s",
)
_COUNT = (
    "SELECT ecosystem, status, count(*) FROM package_versions "
    "WHERE search_words @@ plainto_tsquery('simple', %(text)s) GROUP BY 1, 2"
)
_DONE = (
    "UPDATE package_word_sets SET counting = NULL WHERE words = %(words)s AND counting = %(token)s"
)
_ADD_COUNT = (
    "INSERT INTO package_word_set_totals AS t (words, ecosystem, status, versions) "
    "VALUES (%(words)s, %(ecosystem)s, %(status)s, %(versions)s) "
    "ON CONFLICT (words, ecosystem, status) DO UPDATE SET versions = t.versions + excluded.versions"
)


class SetCount:
    """The keeping of one word set: :meth:`start`, then :meth:`count`, then :meth:`finish`.

    Holds two connections of its own: one that writes (two short transactions)
    and one that reads the snapshot the set is counted in.
    """

    _COUNTING = _COUNTING
    _ADD = _ADD_SET
    _TAKE_OVER: tuple[str, ...] = _TAKE_OVER
    _COUNT = _COUNT
    _DONE = _DONE

    def __init__(self, conninfo: str, arguments: dict[str, Any]) -> None:
        self.token = secrets.token_hex(8)
        self.counted: list[tuple[Any, ...]] = []
        self._params = self._parameters(arguments) | {"token": self.token}
        options = "-c TimeZone=UTC"
        self._writer = psycopg.connect(conninfo, options=options)
        try:
            self._reader = psycopg.connect(conninfo, options=options, autocommit=True)
        except psycopg.Error:
            self._writer.close()
            raise

    @staticmethod
    def _parameters(arguments: dict[str, Any]) -> dict[str, Any]:
        return {
            "words": arguments["set_key"],
            "word_list": list(arguments["word_list"]),
            "rarest": arguments["rarest"],
            "most": arguments["most"],
            "text": " ".join(arguments["word_list"]),
        }

    @classmethod
    def start(cls, conninfo: str, arguments: dict[str, Any]) -> Self | None:
        """Add the set as being counted, with the snapshot to count it in.

        ``arguments``: those of a search's keep step (``set_key``, ``word_list``,
        ``rarest``, ``most``). None when the set is kept already or the bound
        on kept sets is reached.
        """
        count = cls(conninfo, arguments)
        try:
            if count._begin():
                return count
        except BaseException:
            count.close()
            raise
        count.close()
        return None

    def _begin(self) -> bool:
        writer, reader, params = self._writer, self._reader, self._params
        with writer.transaction():
            writer.execute(_LOCK)
            row = writer.execute(self._COUNTING, params).fetchone()
            if row is None:
                started = writer.execute(self._ADD, params).rowcount == 1
            else:
                started = row[0] is not None
                if started:
                    for sql in self._TAKE_OVER:
                        writer.execute(sql, params)
            if started:
                # Nothing writes the versions while the lock is held: the snapshot
                # taken now is the versions as of the commit below.
                reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                reader.execute("SELECT 1").fetchone()
        return started

    def count(self) -> None:
        """Count the versions in the snapshot (writers carry on meanwhile)."""
        reader = self._reader
        try:
            reader.execute("SET LOCAL work_mem = '64MB'")
            self.counted = [tuple(row) for row in reader.execute(self._COUNT, self._params)]
        finally:
            reader.execute("ROLLBACK")

    def finish(self) -> bool:
        """Add the snapshot's count to the changes made since; False when taken over meanwhile."""
        writer = self._writer
        with writer.transaction():
            kept = writer.execute(self._DONE, self._params).rowcount == 1
            if kept:
                self._add_counted(writer)
        return kept

    def _add_counted(self, writer: psycopg.Connection[Any]) -> None:
        writer.cursor().executemany(
            _ADD_COUNT,
            [
                self._params | {"ecosystem": e, "status": s, "versions": n}
                for e, s, n in self.counted
            ],
        )

    def close(self) -> None:
        """Close both connections (an unfinished count stays, for another to take over)."""
        self._reader.close()
        self._writer.close()


# A kept name term (migration 0024): its rows as the trigger writes them.
_TERM_FIRST = (
    "strpos(lower(s.normalized_name), %(term)s) "
    "= length(lower(s.normalized_name)) - length(s.suffix) + 1"
)
_TERM_NAMES = (
    "INSERT INTO package_name_term_names AS t (term, place, normalized_name, ecosystem, "
    "pending, approved, rejected) SELECT %(term)s, u.* FROM unnest(%(places)s::smallint[], "
    "%(names)s::text[], %(ecosystems)s::text[], %(pending)s::integer[], "
    "%(approved)s::integer[], %(rejected)s::integer[]) AS u ORDER BY 2, 3, 4 "
    "ON CONFLICT (term, place, normalized_name, ecosystem) DO UPDATE SET "
    "pending = t.pending + excluded.pending, approved = t.approved + excluded.approved, "
    "rejected = t.rejected + excluded.rejected"
)
_TERM_TOTALS = (
    "INSERT INTO package_name_term_totals AS t (term, ecosystem, status, versions) "
    "SELECT %(term)s, u.* FROM unnest(%(ecosystems)s::text[], %(statuses)s::text[], "
    "%(versions)s::integer[]) AS u ORDER BY 2, 3 "
    "ON CONFLICT (term, ecosystem, status) DO UPDATE SET versions = t.versions + excluded.versions"
)


class TermCount(SetCount):
    """The keeping of one name term, as a word set is kept (:class:`SetCount`).

    ``arguments``: those of a search's keep step (``term``, ``most``). The
    count reads the suffix row of the term's first place in each name
    containing it (``package_name_suffixes``, with the name's versions per
    status); a name's place is 0 when it is the term, 1 when it starts with it.
    """

    _COUNTING = "SELECT counting FROM package_name_terms WHERE term = %(term)s"
    _ADD = (
        "INSERT INTO package_name_terms (term, counting) SELECT %(term)s, %(token)s "
        "WHERE (SELECT count(*) FROM package_name_terms) < %(most)s ON CONFLICT (term) DO NOTHING"
    )
    _TAKE_OVER = (
        "UPDATE package_name_terms SET counting = %(token)s WHERE term = %(term)s",
        "DELETE FROM package_name_term_names WHERE term = %(term)s",
        "DELETE FROM package_name_term_totals WHERE term = %(term)s",
    )
    _COUNT = (
        "SELECT CASE WHEN length(s.suffix) < length(lower(s.normalized_name)) THEN 2 "
        "WHEN s.suffix = %(term)s THEN 0 ELSE 1 END, s.normalized_name, s.ecosystem, "
        "s.pending, s.approved, s.rejected FROM package_name_suffixes s "
        f"WHERE s.suffix >= %(term)s AND s.suffix < %(term_end)s AND {_TERM_FIRST}"
    )
    _DONE = (
        "UPDATE package_name_terms SET counting = NULL WHERE term = %(term)s "
        "AND counting = %(token)s"
    )

    @staticmethod
    def _parameters(arguments: dict[str, Any]) -> dict[str, Any]:
        term = arguments["term"]
        return {"term": term, "term_end": term + "\uffff", "most": arguments["most"]}

    def _add_counted(self, writer: psycopg.Connection[Any]) -> None:
        places, names, ecosystems, *by_status = (list(c) for c in zip(*self.counted, strict=True))
        if not places:
            return
        writer.execute(
            _TERM_NAMES,
            self._params
            | {"places": places, "names": names, "ecosystems": ecosystems}
            | dict(zip(STATUSES, by_status, strict=True)),
        )
        totals: dict[tuple[str, str], int] = {}
        for _place, _name, ecosystem, *versions in self.counted:
            for status, n in zip(STATUSES, versions, strict=True):
                totals[ecosystem, status] = totals.get((ecosystem, status), 0) + n
        writer.execute(
            _TERM_TOTALS,
            self._params
            | {
                "ecosystems": [e for e, _s in totals],
                "statuses": [s for _e, s in totals],
                "versions": list(totals.values()),
            },
        )
        # A name whose versions all went while the term was counted.
        writer.execute(
            "DELETE FROM package_name_term_names WHERE term = %(term)s "
            "AND pending = 0 AND approved = 0 AND rejected = 0",
            self._params,
        )


def keeping(arguments: dict[str, Any]) -> str:
    """What a keep step keeps, as one key: a word set's, or a name term's (never alike)."""
    return str(arguments["set_key"]) if "set_key" in arguments else f"term:{arguments['term']}"


def keep(conninfo: str, arguments: dict[str, Any]) -> None:
    """Add a word set or a name term and count it (see the module); nothing when kept already."""
    kind = SetCount if "set_key" in arguments else TermCount
    count = kind.start(conninfo, arguments)
    if count is None:
        return
    try:
        count.count()
        count.finish()
    finally:
        count.close()


def conninfo(url: Any) -> str:
    """The libpq connection string of a SQLAlchemy URL (``postgresql+psycopg://``)."""
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))
