"""Core schema: package versions, reviews, scans, tokens, jobs, and the search index.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from foss_registry.db import UTCDateTime, ordered_text

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            "uq_api_tokens_active_name",
            ["name"],
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", UTCDateTime(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("locked_by", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_claim", ["status", "run_after", "id"], unique=False)

    op.create_table(
        "package_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ecosystem", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("normalized_name", ordered_text(255), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("canonical_version", sa.String(length=128), nullable=False),
        sa.Column("sort_token", ordered_text(512), nullable=False),
        sa.Column("purl", sa.String(length=1024), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("license", sa.String(length=1024), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("homepage", sa.String(length=2048), nullable=True),
        sa.Column("repository", sa.String(length=2048), nullable=True),
        sa.Column("justification", sa.Text(), nullable=True),
        sa.Column("submitted_by", sa.String(length=255), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("approved_by", sa.String(length=255), nullable=True),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("rejected_by", sa.String(length=255), nullable=True),
        sa.Column("rejected_at", UTCDateTime(), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("flags", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("policy_reasons", sa.JSON(none_as_null=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_versions")),
        sa.UniqueConstraint(
            "ecosystem",
            "normalized_name",
            "canonical_version",
            name=op.f("uq_package_versions_ecosystem"),
        ),
    )
    with op.batch_alter_table("package_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_package_versions_ecosystem_name", ["ecosystem", "normalized_name"], unique=False
        )
        batch_op.create_index(
            "ix_package_versions_name_order", ["normalized_name", "sort_token", "id"], unique=False
        )
        batch_op.create_index("ix_package_versions_status", ["status"], unique=False)

    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(length=128), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_heartbeats")),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=255), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reasons", sa.JSON(none_as_null=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["package_versions.id"],
            name=op.f("fk_reviews_version_id_package_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index("ix_reviews_version_id", ["version_id", "id"], unique=False)

    op.create_table(
        "scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("scan_date", UTCDateTime(), nullable=True),
        sa.Column("tools_used", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("findings", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("severity", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("database_updated_at", UTCDateTime(), nullable=True),
        sa.Column("changes", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["package_versions.id"],
            name=op.f("fk_scans_version_id_package_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scans")),
    )
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.create_index("ix_scans_version_id", ["version_id", "id"], unique=False)

    op.create_table(
        "policy_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_documents")),
    )
    _create_search_index()


def downgrade() -> None:
    _drop_search_index()
    op.drop_table("policy_documents")
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_index("ix_scans_version_id")

    op.drop_table("scans")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_reviews_version_id")

    op.drop_table("reviews")
    op.drop_table("worker_heartbeats")
    with op.batch_alter_table("package_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_package_versions_status")
        batch_op.drop_index("ix_package_versions_name_order")
        batch_op.drop_index("ix_package_versions_ecosystem_name")

    op.drop_table("package_versions")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_claim")

    op.drop_table("jobs")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_api_tokens_active_name",
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )

    op.drop_table("api_tokens")


def _create_search_index() -> None:
    # Search must not scan every row. Names are searched by substring, so they
    # get a trigram index; descriptions by words, so they get a word index
    # (a trigram index on free text makes common words slow). SQLite: two FTS5
    # tables kept in step by triggers. PostgreSQL: pg_trgm and a tsvector GIN.
    if op.get_bind().dialect.name == "sqlite":
        for table, column, tokenizer in SQLITE_SEARCH_TABLES:
            op.execute(
                f"CREATE VIRTUAL TABLE {table} USING fts5({column}, "
                f"content='package_versions', content_rowid='id', tokenize='{tokenizer}')"
            )
            op.execute(
                f"CREATE TRIGGER {table}_ai AFTER INSERT ON package_versions BEGIN "
                f"INSERT INTO {table}(rowid, {column}) VALUES (new.id, new.{column}); END"
            )
            op.execute(
                f"CREATE TRIGGER {table}_ad AFTER DELETE ON package_versions BEGIN "
                f"INSERT INTO {table}({table}, rowid, {column}) "
                f"VALUES ('delete', old.id, old.{column}); END"
            )
            op.execute(
                f"CREATE TRIGGER {table}_au AFTER UPDATE OF {column} ON package_versions BEGIN "
                f"INSERT INTO {table}({table}, rowid, {column}) "
                f"VALUES ('delete', old.id, old.{column}); "
                f"INSERT INTO {table}(rowid, {column}) VALUES (new.id, new.{column}); END"
            )
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_package_versions_name_trgm ON package_versions "
            "USING gin (normalized_name gin_trgm_ops)"
        )
        op.execute(
            "CREATE INDEX ix_package_versions_description_words ON package_versions "
            "USING gin (to_tsvector('simple', coalesce(description, '')))"
        )


SQLITE_SEARCH_TABLES = (
    ("package_name_search", "normalized_name", "trigram"),
    ("package_text_search", "description", "unicode61 remove_diacritics 2"),
)


def _drop_search_index() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, _column, _tokenizer in SQLITE_SEARCH_TABLES:
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {table}")
    else:
        op.execute("DROP INDEX IF EXISTS ix_package_versions_description_words")
        op.execute("DROP INDEX IF EXISTS ix_package_versions_name_trgm")
