"""Every table of the registry, imported in one place for migrations and tests."""

from foss_registry.auth.models import api_tokens
from foss_registry.db import metadata
from foss_registry.jobs.models import jobs, worker_heartbeats
from foss_registry.packages.models import package_versions
from foss_registry.policy.models import policy_documents
from foss_registry.reviews.models import reviews
from foss_registry.scans.models import scans

__all__ = [
    "api_tokens",
    "jobs",
    "metadata",
    "package_versions",
    "policy_documents",
    "reviews",
    "scans",
    "worker_heartbeats",
]
