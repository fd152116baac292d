"""Webhooks end to end: a real server and its worker, real receivers on loopback.

Signatures are checked with the ``standardwebhooks`` package, an implementation
independent of the registry's.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import standardwebhooks
from sqlalchemy import Engine, select

from foss_registry.config import get_settings
from foss_registry.db import read_connection, utcnow
from foss_registry.jobs.models import jobs
from foss_registry.scans.service import SCAN_BATCH_SIZE
from foss_registry.webhooks.models import webhook_events
from foss_registry.wiring import new_worker
from tests.functional.conftest import create_token
from tests.functional.server.conftest import ServerProcess, start_server
from tests.functional.standing.receiver import Receiver, start_receiver

HOOKS = "/api/v1/webhooks"
README = Path(__file__).resolve().parents[3] / "README.md"


def readme_verify() -> Any:
    """The receiver's ``verify`` function exactly as the README shows it."""
    text = README.read_text()
    start = text.index("```python", text.index("A receiver checks the signature"))
    code = text[start + len("```python") : text.index("```", start + 3)]
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace["verify"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = start_receiver()
    yield r
    r.stop()


def serve(tmp_path: Path, database_url: str, *args: str, private: bool = True) -> ServerProcess:
    return start_server(
        tmp_path,
        {
            "FOSS_DATABASE_URL": database_url,
            "FOSS_RATE_LIMITS_ENABLED": "false",
            "FOSS_WEBHOOKS_ALLOW_PRIVATE": "true" if private else "false",
            "FOSS_WORKER_POLL_SECONDS": "0.2",
        },
        list(args),
    )


def post(server: ServerProcess, path: str, token: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(server.url + path, json=body, headers={"X-API-Key": token}, timeout=30)


def get(server: ServerProcess, path: str, token: str) -> httpx.Response:
    return httpx.get(server.url + path, headers={"X-API-Key": token}, timeout=30)


def submit(server: ServerProcess, token: str, name: str, version: str = "1.0.0") -> None:
    body = {"name": name, "version": version, "ecosystem": "pypi", "license": "MIT"}
    assert post(server, "/api/v1/packages", token, body).status_code == 201


def eventually(probe: Any, timeout: float = 30) -> Any:
    """Poll ``probe()`` until it returns something true; return that (or the last value)."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not value and time.monotonic() < deadline:
        time.sleep(0.1)
        value = probe()
    return value


def of_type(kind: str) -> Any:
    return lambda got: [r for r in got if json.loads(r.body)["type"] == kind]


def test_events_arrive_signed_and_a_failed_delivery_is_retried_under_the_same_id(
    tmp_path: Path, database_url: str, engine: Engine, receiver: Receiver
) -> None:
    admin = create_token(engine, "adam", "admin")
    submitter = create_token(engine, "alice", "submitter")
    reviewer = create_token(engine, "rita", "reviewer")
    receiver.statuses = [503]
    server = serve(tmp_path, database_url)
    try:
        made = post(
            server,
            HOOKS,
            admin,
            {"url": receiver.url, "events": ["package.submitted", "package.approved"]},
        )
        assert made.status_code == 201, made.text
        hook = made.json()
        secret = hook["secret"]
        assert secret.startswith("whsec_")
        submit(server, submitter, "requests", "2.31.0")
        receiver.wait_for(lambda got: len(of_type("package.submitted")(got)) == 2)
        first, retry = of_type("package.submitted")(receiver.received)
        assert (first.status, retry.status) == (503, 204)
        assert first.headers["webhook-id"] == retry.headers["webhook-id"]
        assert first.body == retry.body
        verifier = standardwebhooks.Webhook(secret)
        readme = readme_verify()
        for delivery in (first, retry):
            readme(secret, delivery.headers, delivery.body)
            with pytest.raises(ValueError):
                readme(secret, delivery.headers, delivery.body + b" ")
            event = verifier.verify(delivery.body, delivery.headers)
            assert event["type"] == "package.submitted"
            assert event["data"] == {
                "ecosystem": "pypi",
                "name": "requests",
                "version": "2.31.0",
                "status": "pending",
                "purl": "pkg:pypi/requests@2.31.0",
            }
            assert event["timestamp"].endswith("Z")
        # A signature made with another secret is refused by the same check.
        with pytest.raises(standardwebhooks.WebhookVerificationError):
            standardwebhooks.Webhook("whsec_" + "A" * 44).verify(first.body, first.headers)

        decision = {
            "ecosystem": "pypi",
            "name": "requests",
            "version": "2.31.0",
            "decision": "approve",
        }
        assert post(server, "/api/v1/reviews", reviewer, decision).status_code == 201
        receiver.wait_for(of_type("package.approved"))
        approved = verifier.verify(
            of_type("package.approved")(receiver.received)[0].body,
            of_type("package.approved")(receiver.received)[0].headers,
        )
        assert approved["data"]["status"] == "approved"

        deliveries = get(server, f"{HOOKS}/{hook['id']}/deliveries", admin).json()["deliveries"]
        submitted = next(d for d in deliveries if d["event"] == "package.submitted")
        assert submitted["status"] == "delivered"
        assert submitted["webhook_message_id"] == first.headers["webhook-id"]
        assert [a["status_code"] for a in submitted["attempts"]] == [503, 204]
        assert all(isinstance(a["duration_ms"], int) for a in submitted["attempts"])
        # The secret is never shown again, nor logged.
        for path in (HOOKS, f"{HOOKS}/{hook['id']}"):
            answer = get(server, path, admin)
            assert answer.status_code == 200 and secret not in answer.text
            assert "secret" not in answer.text
        assert get(server, HOOKS, reviewer).status_code == 403
    finally:
        server.stop()
    assert secret not in server.log()


def test_a_kill_9_between_the_change_and_its_delivery_loses_nothing(
    tmp_path: Path, database_url: str, engine: Engine, receiver: Receiver
) -> None:
    admin = create_token(engine, "adam", "admin")
    submitter = create_token(engine, "alice", "submitter")
    # No job worker: the event is committed with the submission and nothing delivers it.
    first = serve(tmp_path, database_url, "--no-job-worker")
    hook = post(first, HOOKS, admin, {"url": receiver.url, "events": ["package.submitted"]})
    assert hook.status_code == 201
    submit(first, submitter, "flask", "2.3.2")
    os.killpg(first.process.pid, signal.SIGKILL)
    first.process.wait()
    assert receiver.received == []
    with read_connection(engine) as conn:
        waiting = (
            conn.execute(
                select(webhook_events.c.type).where(webhook_events.c.dispatched_at.is_(None))
            )
            .scalars()
            .all()
        )
    assert waiting == ["package.submitted"]

    second = serve(tmp_path, database_url)
    try:
        receiver.wait_for(of_type("package.submitted"))
        event = standardwebhooks.Webhook(hook.json()["secret"]).verify(
            receiver.received[0].body, receiver.received[0].headers
        )
        assert event["data"]["name"] == "flask" and event["data"]["version"] == "2.3.2"
    finally:
        second.stop()


def test_private_addresses_are_refused_at_creation_and_again_at_delivery(
    tmp_path: Path, database_url: str, engine: Engine, receiver: Receiver
) -> None:
    admin = create_token(engine, "adam", "admin")
    submitter = create_token(engine, "alice", "submitter")
    strict = serve(tmp_path, database_url, private=False)
    try:
        for url in (
            receiver.url,
            "http://localhost:9/hook",
            "http://127.8.9.10/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            # A name, refused after DNS resolution: this machine's own.
            f"http://{socket.gethostname()}:9/hook",
            "ftp://example.invalid/",
        ):
            answer = post(strict, HOOKS, admin, {"url": url, "events": ["package.submitted"]})
            assert answer.status_code == 400, (url, answer.text)
            assert answer.json()["errors"][0]["field"] == "url"
        assert get(strict, HOOKS, admin).json() == {"webhooks": []}
    finally:
        strict.stop()

    # Registered while allowed; the worker of a server where it is not refuses to call it.
    lenient = serve(tmp_path, database_url)
    made = post(lenient, HOOKS, admin, {"url": receiver.url, "events": ["package.submitted"]})
    assert made.status_code == 201
    lenient.stop()
    strict = serve(tmp_path, database_url, private=False)
    try:
        submit(strict, submitter, "attrs", "23.1.0")
        hook_id = made.json()["id"]

        def refused() -> list[dict[str, Any]]:
            found = get(strict, f"{HOOKS}/{hook_id}/deliveries", admin).json()["deliveries"]
            return [d for d in found if d["status"] == "refused"]

        (delivery,) = eventually(refused)
        assert "refused" in delivery["attempts"][0]["error"]
        assert receiver.received == []
    finally:
        strict.stop()


def test_a_receiver_that_is_down_does_not_hold_up_submissions(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    admin = create_token(engine, "adam", "admin")
    submitter = create_token(engine, "alice", "submitter")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    server = serve(tmp_path, database_url)
    try:
        hook = post(server, HOOKS, admin, {"url": closed, "events": ["package.submitted"]}).json()
        for n in range(20):
            submit(server, submitter, f"pkg-{n}")

        def all_tried() -> list[dict[str, Any]]:
            found = get(server, f"{HOOKS}/{hook['id']}/deliveries", admin).json()
            tried = [d for d in found["deliveries"] if d["attempts"]]
            return tried if len(tried) == 20 else []

        tried = eventually(all_tried)
        assert len(tried) == 20
        for delivery in tried:
            assert delivery["status"] == "pending" and delivery["next_attempt_at"]
            assert delivery["attempts"][0]["status_code"] is None
            assert delivery["attempts"][0]["error"]
    finally:
        server.stop()


def test_a_due_delivery_retry_is_claimed_ahead_of_a_backlog_of_scans(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The worker runs in this process, one batch at a time, so the order is seen exactly.
    monkeypatch.setenv("FOSS_WEBHOOKS_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    admin = create_token(engine, "adam", "admin")
    submitter = create_token(engine, "alice", "submitter")
    reviewer = create_token(engine, "rita", "reviewer")
    receiver.statuses = [503]
    server = serve(tmp_path, database_url, "--no-job-worker")
    try:
        hook = post(server, HOOKS, admin, {"url": receiver.url, "events": ["package.approved"]})
        assert hook.status_code == 201, hook.text
        submit(server, submitter, "requests", "2.31.0")
        # A backlog: 150 more submissions, each with its scan job queued before the event.
        for n in range(150):
            submit(server, submitter, f"backlog-{n}")
        decision = {"ecosystem": "pypi", "name": "requests", "version": "2.31.0"}
        answer = post(server, "/api/v1/reviews", reviewer, decision | {"decision": "approve"})
        assert answer.status_code == 201, answer.text
    finally:
        server.stop()

    def queued_scans() -> int:
        with read_connection(engine) as conn:
            return len(
                conn.execute(
                    select(jobs.c.id).where(jobs.c.kind == "scan", jobs.c.status == "queued")
                ).all()
            )

    worker = new_worker(engine, worker_id="busy")
    # The first batch: the relay hands the approval on and its delivery goes before any scan.
    assert worker.run_batch() == 1
    assert [r.status for r in receiver.received] == [503]
    assert queued_scans() == 151
    # The worker gets on with the backlog (scans and enrichments) while the retry waits.
    while queued_scans() > 151 - SCAN_BATCH_SIZE and len(receiver.received) == 1:
        assert worker.run_batch()

    def retry_due() -> bool:
        with read_connection(engine) as conn:
            due = conn.execute(
                select(jobs.c.run_after).where(
                    jobs.c.kind == "webhook-deliver", jobs.c.status == "queued"
                )
            ).scalar_one()
        return bool(due <= utcnow())

    if len(receiver.received) == 1:
        # Its retry, once due, is the next job claimed, ahead of the older scans.
        assert eventually(retry_due, timeout=10)
        assert worker.run_batch() == 1
    first, retry = receiver.received
    assert (first.status, retry.status) == (503, 204)
    assert first.headers["webhook-id"] == retry.headers["webhook-id"]
    assert queued_scans() >= 151 - SCAN_BATCH_SIZE
    get_settings.cache_clear()
