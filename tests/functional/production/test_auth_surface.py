"""Every write route is protected; tokens never leak into logs; revocation is immediate."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, select, update

from foss_registry.auth.models import api_tokens
from foss_registry.db import utcnow, write_transaction
from tests.functional.conftest import create_token, key
from tests.functional.production.conftest import engine_for, problem
from tests.functional.server.conftest import foss_command, start_server

WRITE_METHODS = {"post", "put", "patch", "delete"}
#: Writes in form only: `POST /check` reads the registry (public by design).
PUBLIC_POSTS = {("post", "/api/v1/check")}


def protected_operations(client: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation of the OpenAPI document that must need a key."""
    document = client.get("/api/v1/openapi.json").json()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in WRITE_METHODS | {"get"}:
                continue
            is_write = method in WRITE_METHODS and (method, path) not in PUBLIC_POSTS
            declares_key = {"apiKey": []} in operation.get("security", [])
            # A write must declare the key; so does any admin read (it then needs one).
            assert declares_key or not is_write, f"{method.upper()} {path} declares no apiKey"
            if declares_key:
                found.append((method, path, operation))
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_write_route_answers_401_without_a_key_and_403_with_an_invalid_one(
    client: Any, engine: Engine
) -> None:
    operations = protected_operations(client)
    methods = {(m, p) for m, p, _ in operations}
    # The enumeration really sees the write routes (and a new one would be in it).
    assert {
        ("post", "/api/v1/packages"),
        ("post", "/api/v1/reviews"),
        ("post", "/api/v1/tokens"),
        ("delete", "/api/v1/tokens/{name_or_id}"),
        ("put", "/api/v1/policy"),
    } <= methods
    revoked = create_token(engine, "gone", "admin")
    with write_transaction(engine) as conn:
        conn.execute(
            update(api_tokens).where(api_tokens.c.name == "gone").values(revoked_at=utcnow())
        )
    for method, path, _ in operations:
        url = concrete(path)
        # Bodies are deliberately absent: the key is checked before the body is read.
        problem(client.request(method.upper(), url), 401, "missing_api_key")
        for bad in ("foss_not-a-token", "", revoked):
            if not bad:
                continue
            problem(client.request(method.upper(), url, headers=key(bad)), 403, "invalid_api_key")
        # A garbage body with an invalid key is still a 403, never a 400.
        problem(
            client.request(
                method.upper(),
                url,
                content=b"{not json",
                headers=key("foss_x") | {"content-type": "application/json"},
            ),
            403,
            "invalid_api_key",
        )


def test_tokens_are_stored_only_as_hashes(client: Any, engine: Engine) -> None:
    secret = create_token(engine, "alice", "submitter")
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens)).one()
    assert secret not in " ".join(str(v) for v in row)
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()


def foss(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*foss_command(), *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_full_scenario_logs_no_token_and_revocation_and_expiry_act_at_once(
    tmp_path: Path, database_url: str
) -> None:
    static = "foss_static-ci-token-0123456789abcdef"
    server = start_server(
        tmp_path,
        {
            "FOSS_DATABASE_URL": database_url,
            "FOSS_API_TOKENS": f"ci:submitter:{static}",
            "FOSS_LOG_LEVEL": "DEBUG",
            "FOSS_RATE_LIMITS_ENABLED": "true",
            "FOSS_RATE_LIMIT_PER_IP": "1000/minute",
        },
    )
    secrets = [static]
    try:
        admin = foss(server.env, "token", "create", "--name", "root", "--role", "admin")
        reviewer = foss(server.env, "token", "create", "--name", "rita", "--role", "reviewer")
        secrets += [admin, reviewer]
        with httpx.Client(base_url=f"{server.url}/api/v1", timeout=30) as api:
            made = api.post(
                "/tokens",
                json={"name": "alice", "role": "submitter", "expires_in_days": 30},
                headers=key(admin),
            )
            assert made.status_code == 201
            alice = made.json()["token"]
            secrets.append(alice)
            for i, token in enumerate((alice, static)):
                body = {"name": "requests", "version": f"2.3{i}.0", "ecosystem": "pypi"}
                assert api.post("/packages", json=body, headers=key(token)).status_code == 201
            decision = {
                "ecosystem": "pypi",
                "name": "requests",
                "version": "2.30.0",
                "decision": "approve",
            }
            assert api.post("/reviews", json=decision, headers=key(reviewer)).status_code == 201
            # Reads with a key (counted for its rate limit) and with a wrong one (ignored).
            assert api.get("/packages/requests", headers=key(alice)).status_code == 200
            assert api.get("/packages", headers=key(alice + "x")).status_code == 200
            assert api.get("/tokens", headers=key(admin)).status_code == 200

            # Revoked: refused on the very next request.
            assert api.delete("/tokens/alice", headers=key(admin)).status_code == 200
            body = {"name": "requests", "version": "2.40.0", "ecosystem": "pypi"}
            problem(api.post("/packages", json=body, headers=key(alice)), 403, "invalid_api_key")
            # Expired: refused on the very next request too.
            engine = engine_for(database_url)
            with write_transaction(engine) as conn:
                conn.execute(
                    update(api_tokens)
                    .where(api_tokens.c.name == "rita")
                    .values(expires_at=utcnow())
                )
            engine.dispose()
            refused = api.post("/reviews", json=decision, headers=key(reviewer))
            assert problem(refused, 403, "invalid_api_key")["detail"] == "The API key has expired."
            # Wrong secrets are refused without echoing them.
            wrong = api.post("/packages", json=body, headers=key(admin[:-1] + "A"))
            assert admin[:-1] not in wrong.text
    finally:
        assert server.stop() == 0
    log = server.log()
    assert "foss_registry.access" in log and '"POST /api/v1/tokens" 201' in log
    for secret in secrets:
        assert secret not in log
        assert secret[8:] not in log  # not even most of it
        assert hashlib.sha256(secret.encode()).hexdigest() not in log


def test_the_role_declared_on_a_route_is_checked_before_its_body_is_read(
    client: Any, engine: Engine
) -> None:
    submitter = create_token(engine, "sam", "submitter")
    garbage = key(submitter) | {"content-type": "application/json"}
    for method, url in (("POST", "/api/v1/reviews"), ("POST", "/api/v1/tokens"), ("PUT", "/api/v1/policy")):
        answer = problem(client.request(method, url, content=b"{not json", headers=garbage), 403, "forbidden")
        assert "role" in answer["detail"]
    # Nothing was stored by the refused calls.
    assert client.get("/api/v1/reviews").json()["total"] == 0


def test_a_write_looks_its_key_up_once(client: Any, engine: Engine, monkeypatch: Any) -> None:
    from foss_registry.auth import service as auth

    secret = create_token(engine, "once", "submitter")
    lookups: list[str] = []
    real = auth.identify

    def counted(conn: Any, token: str, static: Any) -> Any:
        lookups.append(token)
        return real(conn, token, static)

    monkeypatch.setattr(auth, "identify", counted)
    body = {"name": "requests", "version": "2.31.0", "ecosystem": "pypi"}
    assert client.post("/api/v1/packages", json=body, headers=key(secret)).status_code == 201
    assert lookups == [secret]
    # The use is recorded once a minute, without a second lookup.
    with engine.connect() as conn:
        used = conn.execute(select(api_tokens.c.last_used_at).where(api_tokens.c.name == "once"))
        assert used.scalar_one() is not None
