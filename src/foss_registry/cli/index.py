"""``foss index config pip|npm|uv``: the lines that point an installer at this registry's index."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

import typer

from foss_registry.cli.client import DEFAULT_API_URL, ApiUrlOption, TokenOption
from foss_registry.cli.common import fail

app = typer.Typer(
    help="Install through the registry: only approved versions install.",
    no_args_is_help=True,
)

CLIENTS = ("pip", "uv", "npm")


def server_base(api_url: str) -> str:
    """The server's base URL from the API's (``…/api/v1`` removed)."""
    base = api_url.strip().rstrip("/")
    if base.endswith("/api/v1"):
        base = base[: -len("/api/v1")]
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise fail(f"--api-url must be an http(s) URL, got {api_url!r}")
    return base


def config_lines(client: str, base: str, token: str | None) -> str:
    """The configuration text for one client (with the token when one is given)."""
    parts = urlsplit(base)
    if client == "pip":
        url = f"{base}/simple/"
        if token:
            url = (
                f"{parts.scheme}://token:{quote(token, safe='')}@{parts.netloc}{parts.path}/simple/"
            )
        return (
            f"# pip.conf (pip config list shows where pip reads it)\n[global]\nindex-url = {url}\n"
        )
    if client == "uv":
        text = (
            "# uv.toml (or [tool.uv] in pyproject.toml)\n"
            "[[index]]\n"
            'name = "foss-registry"\n'
            f'url = "{base}/simple/"\n'
            "default = true\n"
        )
        if token:
            text += (
                "# and in the environment:\n"
                "#   UV_INDEX_FOSS_REGISTRY_USERNAME=token\n"
                f"#   UV_INDEX_FOSS_REGISTRY_PASSWORD={token}\n"
            )
        return text
    text = f"# .npmrc\nregistry={base}/npm/\n"
    if token:
        text += f"//{parts.netloc}{parts.path}/npm/:_authToken={token}\n"
    return text


@app.command("config")
def config(
    client: Annotated[str, typer.Argument(help="pip, uv or npm.", show_default=False)],
    with_token: Annotated[
        bool,
        typer.Option(
            "--with-token",
            help="Put the token (FOSS_API_TOKEN) in the lines, for FOSS_INDEX_REQUIRE_TOKEN.",
        ),
    ] = False,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    token: TokenOption = None,
) -> None:
    """Print the lines for pip.conf, uv.toml or .npmrc that install through this registry."""
    name = client.strip().lower()
    if name not in CLIENTS:
        raise fail(f"unknown client {client!r}; use one of: {', '.join(CLIENTS)}")
    if with_token and not token:
        raise fail("--with-token needs a token: set FOSS_API_TOKEN or pass --token")
    typer.echo(config_lines(name, server_base(api_url), token if with_token else None), nl=False)
