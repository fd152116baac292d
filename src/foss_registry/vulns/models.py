"""The vulnerability database: OSV advisories, the packages they name, per-ecosystem freshness.

- ``advisories`` holds every imported OSV record once, by ``id``, with its
  ``modified`` time (which decides whether a re-import updates it), its
  ``withdrawn`` time (kept, never matched) and the record itself as compact
  JSON bytes (``vulns.osv.encode_record``).
- ``advisory_packages`` indexes each advisory under the (ecosystem,
  normalised name) pairs it affects, so a scan reads only the candidates of
  one package through the ``(ecosystem, normalized_name)`` index before the
  exact version check in Python.
- ``vulndb_ecosystems`` keeps, per ecosystem, the newest ``modified`` seen and
  when data was last imported: a scan reads one row to report the database's
  age, and knows when there is no data at all for its ecosystem.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
)

from foss_registry.db import UTCDateTime, metadata

advisories = Table(
    "advisories",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("modified", UTCDateTime, nullable=False),
    Column("published", UTCDateTime),
    Column("withdrawn", UTCDateTime),
    # The id's prefix (PYSEC, GHSA, MAL, CVE...): where the record comes from.
    Column("source", String(32), nullable=False),
    # The record as compact OSV JSON; decoded only for the candidates of a scan.
    Column("record", LargeBinary, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Index("ix_advisories_modified", "modified"),
)

advisory_packages = Table(
    "advisory_packages",
    metadata,
    Column(
        "advisory_id",
        String(128),
        ForeignKey("advisories.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("ecosystem", String(16), nullable=False),
    Column("normalized_name", String(255), nullable=False),
    PrimaryKeyConstraint("advisory_id", "ecosystem", "normalized_name"),
    Index("ix_advisory_packages_package", "ecosystem", "normalized_name"),
)

vulndb_ecosystems = Table(
    "vulndb_ecosystems",
    metadata,
    Column("ecosystem", String(16), primary_key=True),
    Column("newest_modified", UTCDateTime, nullable=False),
    Column("last_imported_at", UTCDateTime, nullable=False),
)
