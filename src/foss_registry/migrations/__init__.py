"""Alembic migrations of the registry schema; run with ``foss db upgrade``."""
