"""One validated settings object for the whole server, read from ``FOSS_`` variables.

Settings are built by :func:`get_settings`, cached, and never at import time;
the app factory and commands take a ``Settings`` value, so tests build their own.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SeverityLevel = Literal["low", "medium", "high", "critical"]

#: Seconds a client may pause while sending a request: its headers (Granian's
#: ``header_read_timeout``, set by ``foss serve``) and its body (the API's edge answers 408).
#: Shorter than the shutdown grace period, so on SIGTERM no stalled client keeps an API
#: process running until it has to be killed.
REQUEST_READ_TIMEOUT_SECONDS = 5.0


class Settings(BaseSettings):
    """Server configuration; every field is the environment variable ``FOSS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="FOSS_", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{Path.cwd() / 'foss-registry.db'}",
        description="SQLAlchemy URL; a SQLite file in the working directory by default.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    auth_enabled: bool = True
    api_tokens: str = Field(
        default="",
        description="Static tokens, comma-separated `name:role:token` or `name:role:sha256:<hex>`.",
        repr=False,
    )
    redis_url: str | None = None
    rate_limits_enabled: bool = True
    rate_limit_per_ip: str = "100/minute"
    rate_limit_per_key: str = "1000/hour"
    rate_limit_prefix: str = Field(
        default="foss-registry",
        description="Prefix of the rate-limit counters' keys in Redis (deployments sharing one).",
    )
    rate_limit_sign_in: str = Field(
        default="10/minute",
        description="Failed sign-ins to the web pages allowed per client IP.",
    )
    web_session_idle_minutes: float = Field(
        default=60.0,
        gt=0,
        description="A web page session unused for this long ends (sign in again).",
    )
    trusted_proxies: str = ""
    cors_origins: str = ""
    max_body_bytes: int = 1024 * 1024
    scan_fail_severity: SeverityLevel = "low"
    policy_file: Path | None = None
    osv_url: str | None = Field(
        default=None,
        description="Base URL of the OSV per-ecosystem exports (`<url>/<Ecosystem>/all.zip`) "
        "that `foss vulndb sync` downloads; no default, so nothing is fetched unless asked.",
    )
    osv_ecosystems: str = Field(
        default="PyPI,npm,Maven",
        description="OSV ecosystems `foss vulndb sync` downloads, comma-separated.",
    )
    osv_timeout_seconds: float = Field(
        default=60.0, gt=0, description="Network timeout of each `foss vulndb sync` request."
    )
    osv_retries: int = Field(
        default=3, ge=0, description="Retries of a failed `foss vulndb sync` download."
    )
    vulndb_stale_days: float = Field(
        default=7.0,
        gt=0,
        description="A vulnerability database whose newest record is older is reported stale.",
    )
    scanners: str = Field(
        default="trivy,grype,osv-scanner",
        description="External image scanners a scan may run when installed, comma-separated "
        "(empty: none).",
    )
    trivy_path: str | None = Field(default=None, description="Trivy program (else PATH).")
    grype_path: str | None = Field(default=None, description="Grype program (else PATH).")
    osv_scanner_path: str | None = Field(
        default=None, description="osv-scanner program (else PATH)."
    )
    scanner_timeout_seconds: float = Field(
        default=240.0,
        gt=0,
        description="Seconds an external scanner may run; keep below FOSS_JOB_LEASE_SECONDS.",
    )
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    ready_requires_worker: bool = Field(
        default=False,
        description="`/readyz` fails when no job worker sent a heartbeat within "
        "FOSS_WORKER_STALE_SECONDS (`foss serve` sets it when it runs its own job worker).",
    )
    worker_stale_seconds: float = Field(
        default=60.0, gt=0, description="A worker silent for longer is reported stale."
    )
    pin_cpu: bool = Field(
        default=True,
        description="Keep each API process's threads on one CPU of its own (Linux; "
        "`foss serve` only): a search handed between threads on two cores cost twice the "
        "CPU.",
    )
    db_threads: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Threads per API process for database work (more than a few only trade "
        "the GIL back and forth).",
    )
    upstream_pypi: str | None = Field(
        default=None,
        description="Base URL of a PEP 503/691 simple index to read PyPI facts from "
        "(a company mirror, or PyPI's own `/simple/`); unset: not configured.",
    )
    upstream_npm: str | None = Field(
        default=None, description="Base URL of an npm registry; unset: not configured."
    )
    upstream_maven: str | None = Field(
        default=None, description="Base URL of a Maven repository; unset: not configured."
    )
    upstream_docker: str | None = Field(
        default=None,
        description="Base URL of an OCI distribution registry (its /v2/ API below it), e.g. a "
        "mirror of the default registry; unset: not configured.",
    )
    upstream_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Connect and read timeout of each upstream request."
    )
    upstream_retries: int = Field(
        default=2, ge=0, le=10, description="Retries of a failed upstream request, with backoff."
    )
    upstream_max_bytes: int = Field(
        default=32 * 1024 * 1024, gt=0, description="Largest upstream document read."
    )
    upstream_cache_dir: Path | None = Field(
        default=None,
        description="Folder where upstream documents are kept with their validators, shared "
        "by processes; unset: kept in memory only.",
    )
    index_mode: Literal["enforce", "audit"] = Field(
        default="enforce",
        description="`enforce`: the index serves approved versions only; `audit`: it serves "
        "everything upstream has and records what enforce would have refused.",
    )
    index_cache_dir: Path = Field(
        default_factory=lambda: Path.cwd() / "foss-index-cache",
        description="Folder where the index keeps the upstream files it served.",
    )
    index_cache_max_bytes: int = Field(
        default=10 * 1024**3,
        gt=0,
        description="Size limit of FOSS_INDEX_CACHE_DIR; least recently used files go first.",
    )
    index_require_token: bool = Field(
        default=False,
        description="Index reads need an API token (pip: basic-auth password; npm: _authToken).",
    )
    index_request_on_block: bool = Field(
        default=False,
        description="A refused install with a submitter's token submits the version for review.",
    )
    index_page_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Seconds an upstream project page or packument is used before the index "
        "asks upstream again (with its validators); decisions apply at once regardless.",
    )
    public_url: str | None = Field(
        default=None,
        description="The registry's external base URL (e.g. https://foss.example.com); "
        "absolute URLs are built from the request's Host when unset.",
    )
    job_lease_seconds: int = 300
    job_max_attempts: int = 5
    worker_poll_seconds: float = 0.5
    webhooks_allow_private: bool = Field(
        default=False,
        description="Let webhooks call loopback, private and link-local addresses (tests, "
        "a receiver on the same host); refused by default at creation and at delivery.",
    )
    webhooks_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Seconds a webhook receiver has to answer."
    )
    webhooks_max_attempts: int = Field(
        default=12,
        ge=1,
        le=30,
        description="Attempts of one webhook delivery before it is given up (backoff from 2 s, "
        "doubling, capped at one hour).",
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("FOSS_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @field_validator("scanners")
    @classmethod
    def _known_scanners(cls, value: str) -> str:
        names = [name.strip().lower() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - {"trivy", "grype", "osv-scanner"})
        if unknown:
            raise ValueError(
                f"FOSS_SCANNERS names unknown scanners ({', '.join(unknown)}); "
                "use some of trivy, grype, osv-scanner, or leave it empty"
            )
        return ",".join(names)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is a SQLite file."""
        return self.database_url.startswith("sqlite")


@cache
def get_settings() -> Settings:
    """Return the process's settings, read once from the environment."""
    return Settings()
