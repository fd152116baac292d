"""Every table of the registry, imported in one place for migrations and tests."""

from foss_registry.auth.models import api_tokens
from foss_registry.db import metadata
from foss_registry.enrichment.models import upstream_records
from foss_registry.index.models import index_blocked
from foss_registry.jobs.models import jobs, worker_heartbeats
from foss_registry.packages.models import package_versions
from foss_registry.policy.models import policy_documents
from foss_registry.reviews.models import reviews
from foss_registry.rules.models import approval_rules
from foss_registry.scans.models import scans
from foss_registry.triage.models import triage
from foss_registry.vulns.models import advisories, advisory_packages, vulndb_ecosystems
from foss_registry.webhooks.models import (
    webhook_attempts,
    webhook_deliveries,
    webhook_events,
    webhooks,
)

__all__ = [
    "advisories",
    "advisory_packages",
    "api_tokens",
    "approval_rules",
    "index_blocked",
    "jobs",
    "metadata",
    "package_versions",
    "policy_documents",
    "reviews",
    "scans",
    "triage",
    "upstream_records",
    "vulndb_ecosystems",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_events",
    "webhooks",
    "worker_heartbeats",
]
