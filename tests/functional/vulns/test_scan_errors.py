"""A scan whose job is given up says ``error``, is counted, and keeps the policy from approving.

The job fails for real: the database refuses to store scan results (a trigger,
as a full disk or a read-only replica would), so every attempt rolls back
until the job is parked as failed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, text

from foss_registry.db import utcnow, write_transaction
from tests.functional.conftest import key, submit
from tests.functional.vulns.conftest import import_all, run_jobs

REFUSE_SQLITE = """
CREATE TRIGGER refuse_scan_results BEFORE UPDATE OF status ON scans
WHEN NEW.status IN ('passed', 'failed', 'not_scanned')
BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END
"""
REFUSE_POSTGRES = [
    """
    CREATE FUNCTION refuse_scan_results() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.status IN ('passed', 'failed', 'not_scanned') THEN
        RAISE EXCEPTION 'could not extend file: No space left on device';
      END IF;
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER refuse_scan_results BEFORE UPDATE ON scans
    FOR EACH ROW EXECUTE FUNCTION refuse_scan_results()
    """,
]


def refuse_scan_results(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text(REFUSE_SQLITE))
        else:
            for statement in REFUSE_POSTGRES:
                conn.execute(text(statement))


def allow_scan_results(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            text(
                "DROP TRIGGER IF EXISTS refuse_scan_results"
                + ("" if engine.dialect.name == "sqlite" else " ON scans")
            )
        )
        if engine.dialect.name != "sqlite":
            conn.execute(text("DROP FUNCTION IF EXISTS refuse_scan_results()"))


def run_until_parked(engine: Engine) -> None:
    """Run the queue; each retry waits for its backoff, so make the retries due now."""
    for _ in range(10):
        run_jobs(engine)
        with write_transaction(engine) as conn:
            waiting = conn.execute(
                text("UPDATE jobs SET run_after = :now WHERE status = 'queued'"),
                {"now": utcnow() - timedelta(seconds=1)},
            ).rowcount
        if not waiting:
            return
    raise AssertionError("the jobs were never parked")


def test_a_given_up_scan_is_an_error_with_its_reason_and_never_approved(
    client: Any, engine: Engine, tokens: dict[str, str], selected_data: Any
) -> None:
    import_all(engine, selected_data)
    admin = key(tokens["admin"])
    # The policy would approve an MIT version whose scan passed, without a reviewer.
    policy = client.put(
        "/api/v1/policy",
        json={"auto_approve": True, "licenses": {"MIT": "approved"}},
        headers=admin,
    )
    assert policy.status_code == 200, policy.text
    assert submit(client, tokens["submitter"], version="2.3.2", license="MIT").status_code == 201
    run_jobs(engine)
    approved = client.get("/api/v1/packages/flask", params={"version": "2.3.2"}).json()
    assert approved["status"] == "approved"  # the control: a scan that could be stored

    refuse_scan_results(engine)
    try:
        for version in ("3.0.0", "3.0.1"):
            response = submit(client, tokens["submitter"], version=version, license="MIT")
            assert response.status_code == 201
        with write_transaction(engine) as conn:
            conn.execute(text("UPDATE jobs SET max_attempts = 3"))
        run_until_parked(engine)
    finally:
        allow_scan_results(engine)

    for version in ("3.0.0", "3.0.1"):
        report = client.get(
            "/api/v1/security/scans/flask", params={"version": version, "ecosystem": "pypi"}
        ).json()
        assert report["status"] == "error", report
        assert report["attempts"] == 3
        assert "3 times" in report["reason"]
        assert "full" in report["reason"] or "No space left" in report["reason"]
        assert report["scan_date"] is not None
        assert report["history"][-1]["status"] == "error"
        record = client.get("/api/v1/packages/flask", params={"version": version}).json()
        assert record["status"] == "pending", record
        assert any("error" in reason for reason in record["policy_reasons"]), record
    failed = client.get("/api/v1/jobs/failed", headers=admin).json()["jobs"]
    assert len(failed) == 2 and all(job["attempts"] == 3 for job in failed)
    metrics = client.get("/metrics").text
    assert "foss_scans_error 2.0" in metrics, metrics[-2000:]


def test_scan_history_is_paged(client: Any, engine: Engine, tokens: dict[str, str]) -> None:
    assert submit(client, tokens["submitter"]).status_code == 201
    with write_transaction(engine) as conn:
        version_id = conn.execute(text("SELECT id FROM package_versions")).scalar_one()
        for n in range(7):
            conn.execute(
                text(
                    "INSERT INTO scans (version_id, status, tools_used, findings, severity, "
                    "\"trigger\", created_at) VALUES (:v, 'pending', '[]', '[]', '{}', :t, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"v": version_id, "t": f"test-{n}"},
            )
    pages = []
    for offset in range(0, 8, 3):
        report = client.get(
            "/api/v1/security/scans/flask",
            params={"history_limit": 3, "history_offset": offset},
        ).json()
        assert report["history_total"] == 8
        pages.extend(entry["trigger"] for entry in report["history"])
    assert pages == ["submission"] + [f"test-{n}" for n in range(7)]
