"""Errors of the index that map to HTTP statuses beyond the domain's usual ones."""

from __future__ import annotations

from foss_registry.errors import DomainError


class BadUpstreamError(DomainError):
    """The upstream answered something unusable (HTML where JSON was asked, a wrong hash): 502."""

    status = 502
    code = "bad_upstream"
    title = "Bad Gateway"


class UpstreamUnavailableError(DomainError):
    """The upstream could not be asked (refused, timed out, not configured): 503."""

    status = 503
    code = "upstream_unavailable"
    title = "Service Unavailable"


class NotAcceptableError(DomainError):
    """The client accepts none of the formats the index serves: 406."""

    status = 406
    code = "not_acceptable"
    title = "Not Acceptable"
