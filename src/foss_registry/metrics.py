"""Prometheus metrics shared by API processes and job workers (``prometheus-client``).

Counters and histograms are recorded where things happen (the HTTP edge, the
job worker). When several processes serve one deployment (``foss serve
--workers N`` and its job worker child), ``PROMETHEUS_MULTIPROC_DIR`` names a
directory where each process writes its values, and ``/metrics`` adds them up;
``foss serve`` sets that directory up before any worker starts and removes it
on exit. Values read from the database (queue depth and age, vulnerability
database age) are read when scraped, by the services that own them, and
handed to :func:`render` (``GET /metrics``), so every process reports the same.

Labels are bounded: route templates (``/api/v1/packages/{name:path}``), never
raw paths, and job kinds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

HTTP_REQUESTS = Counter(
    "foss_http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "foss_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
JOB_DURATION = Histogram(
    "foss_job_duration_seconds",
    "Time a job took to run, by kind (`scan` is a scan) and outcome (done, retry, failed).",
    ["kind", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
# The labelled children in use, so that each request skips the label lookup.
_request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered HTTP request and observe its latency."""
    children = _request_children.get((method, route, status))
    if children is None:
        children = (
            HTTP_REQUESTS.labels(method, route, str(status)),
            HTTP_LATENCY.labels(method, route),
        )
        _request_children[(method, route, status)] = children
    children[0].inc()
    children[1].observe(seconds)


RATE_LIMITED = Counter(
    "foss_rate_limited_total",
    "Requests refused with 429, by which limit ran out (ip or key).",
    ["limit"],
)


INDEX_BLOCKED = Counter(
    "foss_index_blocked_total",
    "Index requests for a file of a version that is not approved, by ecosystem and mode "
    "(enforce: refused; audit: served and recorded).",
    ["ecosystem", "mode"],
)


def multiproc_dir() -> str | None:
    """The multi-process directory in force for this process, if any."""
    return os.environ.get(MULTIPROC_ENV) or None


@dataclass(frozen=True)
class DatabaseGauges:
    """The numbers read from the database at scrape time, by the services that own them.

    ``queue_counts`` and ``oldest_queued_age_seconds`` come from the job queue,
    ``vulndb_ages`` (seconds per ecosystem) from the vulnerability database,
    ``scans_in_error`` from the scans;
    ``up`` is False when the database did not answer (the rest is then empty).
    """

    queue_counts: Mapping[str, int] = field(default_factory=dict)
    oldest_queued_age_seconds: float = 0.0
    vulndb_ages: Sequence[tuple[str, float]] = ()
    #: Scans whose status is ``error``.
    scans_in_error: int = 0
    up: bool = False


class _DatabaseCollector(Collector):
    """Gauges of the database numbers: job queue depth and age, vulnerability data age."""

    def __init__(self, gauges: DatabaseGauges) -> None:
        self.gauges = gauges

    def collect(self) -> Iterator[Any]:
        """Yield queue depth per status, oldest queued job age, vulnerability data age."""
        depth = GaugeMetricFamily(
            "foss_job_queue_depth", "Jobs in the queue, by status.", labels=["status"]
        )
        age = GaugeMetricFamily(
            "foss_job_queue_oldest_age_seconds", "Age of the oldest queued job (0 when none)."
        )
        vulndb = GaugeMetricFamily(
            "foss_vulndb_age_seconds",
            "Time since the newest vulnerability record was modified, by ecosystem "
            "(absent before the first import).",
            labels=["ecosystem"],
        )
        scan_errors = GaugeMetricFamily(
            "foss_scans_error",
            "Scans that ended in error (a failed scanner, or a scan job given up after its "
            "last attempt).",
        )
        up = GaugeMetricFamily(
            "foss_database_up", "1 when the database answered the metrics queries, else 0."
        )
        gauges = self.gauges
        if gauges.up:
            for status, count in gauges.queue_counts.items():
                depth.add_metric([status], count)
            age.add_metric([], gauges.oldest_queued_age_seconds)
            for ecosystem, seconds in gauges.vulndb_ages:
                vulndb.add_metric([ecosystem], seconds)
            scan_errors.add_metric([], gauges.scans_in_error)
        up.add_metric([], 1 if gauges.up else 0)
        yield from (depth, age, vulndb, scan_errors, up)


def render(database: DatabaseGauges) -> bytes:
    """Return the exposition text: this deployment's counters plus the database gauges."""
    if multiproc_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(_DatabaseCollector(database))
    return text + generate_latest(gauges)
