"""`foss token list` (stored and static tokens, in a pipe, as JSON) and FOSS_API_TOKENS at start."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from foss_registry import storage
from foss_registry.db import make_engine
from tests.functional.conftest import create_token
from tests.functional.server.conftest import foss_command

STATIC = "foss_" + "s3cr3t" * 6
LONG_NAME = "release-pipeline-of-the-payments-platform-team"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # stdout is a pipe here, as in `foss token list | grep ...` or a CI log.
    return subprocess.run(
        [*foss_command(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    engine = make_engine(url)
    storage.upgrade(engine)
    create_token(engine, LONG_NAME, "submitter")
    engine.dispose()
    digest = hashlib.sha256(b"another secret").hexdigest()
    environ = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return environ | {
        "FOSS_DATABASE_URL": url,
        "FOSS_API_TOKENS": f"ci:submitter:{STATIC},boss:reviewer:sha256:{digest}",
    }


def test_token_list_shows_stored_and_static_tokens_uncut_in_a_pipe(env: dict[str, str]) -> None:
    listing = run(env, "token", "list")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    stored = next(line for line in lines if LONG_NAME in line)
    # Every column whole: nothing cut to fit 80 characters.
    assert "submitter" in stored and "stored" in stored and "never" in stored
    assert "…" not in listing.stdout
    ci = next(line for line in lines if " ci " in line)
    assert "static" in ci and "submitter" in ci and STATIC[:12] in ci
    boss = next(line for line in lines if " boss " in line)
    assert "static" in boss and "reviewer" in boss
    assert STATIC not in listing.stdout + listing.stderr


def test_token_list_json(env: dict[str, str]) -> None:
    listing = run(env, "token", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert [(r["name"], r["role"], r["static"]) for r in rows] == [
        (LONG_NAME, "submitter", False),
        ("ci", "submitter", True),
        ("boss", "reviewer", True),
    ]
    assert rows[0]["id"] == 1 and rows[0]["created_at"].endswith("Z")
    assert rows[1]["prefix"] == STATIC[:12] and rows[2]["prefix"] is None
    assert STATIC not in listing.stdout
    assert all("token_hash" not in r for r in rows)


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (
            f"ci:submitter:{STATIC},boss:admin:{STATIC}",
            "FOSS_API_TOKENS entries 1 and 2 have the same secret (as 'ci' and 'boss')",
        ),
        (
            f"ci:submitter:{STATIC},"
            f"boss:admin:sha256:{hashlib.sha256(STATIC.encode()).hexdigest()}",
            "FOSS_API_TOKENS entries 1 and 2 have the same secret (as 'ci' and 'boss')",
        ),
        (
            f"ci:submitter:{STATIC},ci:admin:foss_other",
            "FOSS_API_TOKENS entries 1 and 2 are both named 'ci'",
        ),
    ],
)
def test_serve_refuses_a_secret_or_name_given_twice(
    env: dict[str, str], tokens: str, message: str
) -> None:
    started = run(env | {"FOSS_API_TOKENS": tokens, "FOSS_PORT": "1"}, "serve")
    assert started.returncode == 2
    lines = started.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}"), started.stderr
    assert STATIC not in started.stderr + started.stdout
    listed = run(env | {"FOSS_API_TOKENS": tokens}, "token", "list")
    assert listed.returncode == 2 and message in listed.stderr
