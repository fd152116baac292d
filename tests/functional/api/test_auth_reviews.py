"""Tokens, roles and the review workflow over HTTP."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from foss_registry.auth import service as auth
from foss_registry.config import Settings
from foss_registry.db import write_transaction
from tests.conftest import make_client
from tests.functional.api.test_packages import assert_problem
from tests.functional.conftest import key, submit


def review(client: Any, token: str, decision: str, comment: str | None = None, **kw: Any) -> Any:
    body = {"ecosystem": "pypi", "name": "flask", "version": "2.3.0", "decision": decision}
    if comment is not None:
        body["comment"] = comment
    return client.post("/api/v1/reviews", json=body | kw, headers=key(token))


def test_writes_need_a_key_and_a_valid_one(client: Any, tokens: dict[str, str]) -> None:
    body = {"name": "flask", "version": "2.3.0", "ecosystem": "pypi"}
    assert_problem(client.post("/api/v1/packages", json=body), 401, "missing_api_key")
    assert_problem(
        client.post("/api/v1/packages", json=body, headers=key("foss_not-a-real-token")),
        403,
        "invalid_api_key",
    )
    assert client.get("/api/v1/packages").json()["total"] == 0


def test_roles_are_ordered(client: Any, tokens: dict[str, str]) -> None:
    submit(client, tokens["submitter"])
    assert_problem(review(client, tokens["submitter"], "approve"), 403, "forbidden")
    assert review(client, tokens["reviewer"], "approve").status_code == 201
    # An admin may do what a reviewer and a submitter may.
    assert review(client, tokens["admin"], "reject", "licence unclear").status_code == 201
    assert submit(client, tokens["admin"], version="2.3.1").json()["submitted_by"] == "adam"


def test_review_workflow_keeps_every_decision(client: Any, tokens: dict[str, str]) -> None:
    submit(client, tokens["submitter"])
    queue = client.get("/api/v1/reviews", params={"status": "pending"}).json()
    assert queue["total"] == 1 and queue["reviews"][0]["decision"] is None

    rejected = review(client, tokens["reviewer"], "reject", "GPL code in a proprietary product")
    assert rejected.status_code == 201
    body = rejected.json()
    assert body["decision"] == "reject" and body["by"] == "rita"
    record = body["package"]
    assert record["status"] == "rejected"
    assert record["rejected_by"] == "rita"
    assert record["rejection_reason"] == "GPL code in a proprietary product"
    assert record["approved_by"] is None

    approved = review(client, tokens["reviewer"], "approve", "re-checked: dual licensed")
    record = approved.json()["package"]
    assert record["status"] == "approved"
    assert record["approved_by"] == "rita" and record["approved_at"].endswith("Z")
    assert record["rejected_by"] is None and record["rejection_reason"] is None
    assert [(r["decision"], r["by"]) for r in record["reviews"]] == [
        ("reject", "rita"),
        ("approve", "rita"),
    ]

    detail = client.get("/api/v1/packages/flask").json()
    assert detail["status"] == "approved" and len(detail["reviews"]) == 2
    history = client.get("/api/v1/reviews").json()
    assert history["total"] == 2
    assert [r["decision"] for r in history["reviews"]] == ["approve", "reject"]
    assert client.get("/api/v1/packages", params={"status": "approved"}).json()["total"] == 1


def test_reject_needs_a_comment_and_decisions_are_validated(
    client: Any, tokens: dict[str, str]
) -> None:
    submit(client, tokens["submitter"])
    assert_problem(review(client, tokens["reviewer"], "reject"), 400, "comment_required")
    assert_problem(review(client, tokens["reviewer"], "maybe"), 400)
    assert_problem(review(client, tokens["reviewer"], "approve", version="9.9"), 404)
    assert client.get("/api/v1/packages/flask").json()["status"] == "pending"


def test_revoked_and_expired_tokens_stop_at_once(client: Any, engine: Engine) -> None:
    from datetime import timedelta

    from foss_registry.db import utcnow

    with write_transaction(engine) as conn:
        secret, _ = auth.create_token(conn, name="ci", role="submitter")
    assert submit(client, secret).status_code == 201
    with write_transaction(engine) as conn:
        auth.revoke_token(conn, "ci")
    assert_problem(submit(client, secret, version="2.3.1"), 403, "invalid_api_key")
    with write_transaction(engine) as conn:
        short, _ = auth.create_token(
            conn, name="short", role="submitter", expires_at=utcnow() + timedelta(seconds=1)
        )
        conn.execute(
            auth.api_tokens.update()
            .where(auth.api_tokens.c.name == "short")
            .values(expires_at=utcnow())
        )
    assert_problem(submit(client, short, version="2.3.2"), 403, "invalid_api_key")


def test_static_tokens_from_settings(settings: Settings, engine: Engine) -> None:
    hashed = auth.hash_token("foss_hashed-secret")
    configured = settings.model_copy(
        update={"api_tokens": f"ci:submitter:foss_plain-secret,boss:reviewer:sha256:{hashed}"}
    )
    with make_client(configured, engine) as client:
        assert submit(client, "foss_plain-secret").json()["submitted_by"] == "ci"
        assert review(client, "foss_hashed-secret", "approve").json()["by"] == "boss"


def test_auth_off_takes_the_body_name(settings: Settings, engine: Engine) -> None:
    with make_client(settings.model_copy(update={"auth_enabled": False}), engine) as client:
        body = {
            "name": "flask",
            "version": "2.3.0",
            "ecosystem": "pypi",
            "submitted_by": "user@example.com",
        }
        assert (
            client.post("/api/v1/packages", json=body).json()["submitted_by"] == "user@example.com"
        )
        body2 = {"name": "flask", "version": "2.3.1", "ecosystem": "pypi"}
        assert client.post("/api/v1/packages", json=body2).json()["submitted_by"] == "anonymous"


def test_admin_token_endpoints_never_show_secrets_again(
    client: Any, tokens: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/tokens",
        json={"name": "pipeline", "role": "submitter"},
        headers=key(tokens["admin"]),
    )
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("foss_")
    assert submit(client, secret).status_code == 201
    listing = client.get("/api/v1/tokens", headers=key(tokens["admin"]))
    assert secret not in listing.text
    names = {t["name"]: t for t in listing.json()}
    assert names["pipeline"]["prefix"] == secret[:12]
    assert names["pipeline"]["last_used_at"] is not None
    assert_problem(client.get("/api/v1/tokens", headers=key(tokens["reviewer"])), 403)
    revoked = client.delete("/api/v1/tokens/pipeline", headers=key(tokens["admin"]))
    assert revoked.json()["revoked_at"] is not None
    assert_problem(submit(client, secret, version="9.0"), 403)
