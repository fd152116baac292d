"""``foss index config``: the lines each installer needs for this server."""

from __future__ import annotations

import tomllib

from typer.testing import CliRunner

from foss_registry.cli.main import app

runner = CliRunner()
API = "https://reg.example:8443/api/v1"


def test_pip_uv_and_npm_lines_point_at_the_index() -> None:
    pip = runner.invoke(app, ["index", "config", "pip", "--api-url", API])
    assert pip.exit_code == 0 and "index-url = https://reg.example:8443/simple/" in pip.stdout
    uv = runner.invoke(app, ["index", "config", "uv", "--api-url", API])
    assert tomllib.loads(uv.stdout)["index"] == [
        {"name": "foss-registry", "url": "https://reg.example:8443/simple/", "default": True}
    ]
    npm = runner.invoke(app, ["index", "config", "npm", "--api-url", API])
    assert npm.stdout.splitlines()[1] == "registry=https://reg.example:8443/npm/"


def test_the_token_is_printed_only_when_asked() -> None:
    env = {"FOSS_API_TOKEN": "foss_secret"}
    plain = runner.invoke(app, ["index", "config", "npm", "--api-url", API], env=env)
    assert "foss_secret" not in plain.stdout
    npm = runner.invoke(app, ["index", "config", "npm", "--api-url", API, "--with-token"], env=env)
    assert "//reg.example:8443/npm/:_authToken=foss_secret" in npm.stdout
    pip = runner.invoke(app, ["index", "config", "pip", "--api-url", API, "--with-token"], env=env)
    assert "https://token:foss_secret@reg.example:8443/simple/" in pip.stdout


def test_unknown_clients_and_a_missing_token_are_usage_errors() -> None:
    assert runner.invoke(app, ["index", "config", "gem"]).exit_code == 2
    missing = runner.invoke(
        app, ["index", "config", "pip", "--with-token"], env={"FOSS_API_TOKEN": ""}
    )
    assert missing.exit_code == 2
