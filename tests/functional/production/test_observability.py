"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from foss_registry import storage
from foss_registry.config import Settings
from foss_registry.db import make_engine, utcnow, write_transaction
from foss_registry.jobs import queue
from foss_registry.vulns.models import vulndb_ecosystems
from foss_registry.wiring import new_worker
from tests.conftest import make_client
from tests.functional.conftest import submit
from tests.functional.server.conftest import start_server


def metric_lines(client: Any) -> list[str]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return [line for line in response.text.splitlines() if line and not line.startswith("#")]


def test_healthz_and_readyz_need_no_key(client: Any) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["database"] == "ok"
    assert ready["migrations_current"] is True
    assert ready["workers"] == {"recent": 0, "last_seen_seconds_ago": None, "required": False}


def test_readyz_fails_without_a_recent_worker_when_one_is_required(
    settings: Settings, engine: Engine
) -> None:
    required = settings.model_copy(update={"ready_requires_worker": True})
    with make_client(required, engine) as client:
        answer = client.get("/readyz")
        assert answer.status_code == 503 and answer.json()["code"] == "unavailable"
        assert "foss worker" in answer.json()["detail"]
        with write_transaction(engine) as conn:
            queue.heartbeat(conn, "worker-1")
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["workers"]["recent"] == 1


def test_readyz_fails_when_migrations_are_not_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    storage.upgrade(engine, "0001")
    with make_client(Settings(database_url=url, rate_limits_enabled=False), engine) as client:
        answer = client.get("/readyz")
        assert answer.status_code == 503 and "foss db upgrade" in answer.json()["detail"]
        assert client.get("/healthz").status_code == 200
    engine.dispose()


def test_metrics_count_requests_by_route_template_and_report_the_queue(
    client: Any, tokens: dict[str, str], engine: Engine
) -> None:
    submit(client, tokens["submitter"], name="very-unusual-name")
    client.get("/api/v1/packages/very-unusual-name")
    client.get("/api/v1/packages/another-unusual-name")
    before = metric_lines(client)
    text = "\n".join(before)
    # Labelled by route template, never by the raw path.
    assert "unusual" not in text
    assert 'route="/api/v1/packages/{name}",status="200"' in text
    assert 'route="/api/v1/packages/{name}",status="404"' in text
    assert (
        'foss_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v1/packages"'
        in text
        or ("foss_http_request_duration_seconds_bucket" in text)
    )
    # The submission's scan and its enrichment.
    assert 'foss_job_queue_depth{status="queued"} 2.0' in before
    assert any(line.startswith("foss_job_queue_oldest_age_seconds ") for line in before)
    assert "foss_database_up 1.0" in before

    # A scan run by a worker shows up as a scan duration.
    assert new_worker(engine).run_until_idle() == 2
    after = metric_lines(client)
    assert 'foss_job_queue_depth{status="done"} 2.0' in after
    assert any(
        line.startswith('foss_job_duration_seconds_count{kind="scan",outcome="done"}')
        for line in after
    )
    # The vulnerability database's age, per ecosystem, once data was imported.
    assert "# TYPE foss_vulndb_age_seconds gauge" in client.get("/metrics").text
    with write_transaction(engine) as conn:
        conn.execute(
            vulndb_ecosystems.insert().values(
                ecosystem="PyPI",
                newest_modified=utcnow() - timedelta(days=2),
                last_imported_at=utcnow(),
            )
        )
    [age] = [
        float(line.rsplit(" ", 1)[1])
        for line in metric_lines(client)
        if line.startswith('foss_vulndb_age_seconds{ecosystem="PyPI"}')
    ]
    assert 2 * 86400 <= age < 3 * 86400


def test_the_server_exports_metrics_of_all_its_processes(tmp_path: Path, database_url: str) -> None:
    server = start_server(
        tmp_path,
        {"FOSS_DATABASE_URL": database_url, "FOSS_RATE_LIMITS_ENABLED": "false"},
        ["--workers", "2"],
    )
    try:
        with httpx.Client(base_url=server.url) as client:
            for _ in range(40):  # spread over both API processes by the kernel
                assert client.get("/api/v1/packages").status_code == 200
            lines = metric_lines(client)
            ready = client.get("/readyz").json()
    finally:
        assert server.stop() == 0
    count = next(
        float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith(
            'foss_http_requests_total{method="GET",route="/api/v1/packages",status="200"}'
        )
    )
    assert count == 40
    # `foss serve` runs its own job worker, so it is ready only with it.
    assert ready["workers"]["required"] is True and ready["workers"]["recent"] >= 1


def test_a_single_api_process_without_job_worker_counts_in_memory(
    tmp_path: Path, database_url: str
) -> None:
    server = start_server(
        tmp_path,
        {"FOSS_DATABASE_URL": database_url, "FOSS_RATE_LIMITS_ENABLED": "false"},
        ["--no-job-worker"],
    )
    try:
        with httpx.Client(base_url=server.url) as client:
            for _ in range(7):
                assert client.get("/api/v1/packages/nothing-here").status_code == 404
            lines = metric_lines(client)
    finally:
        assert server.stop() == 0
    assert (
        'foss_http_requests_total{method="GET",route="/api/v1/packages/{name}",status="404"} 7.0'
        in lines
    )
