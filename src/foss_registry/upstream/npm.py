"""npm through the registry's packument: the full document for the facts (``license``,
``repository``, ``homepage``, ``time``, ``deprecated``, ``scripts``, ``dist``) and the
abbreviated install document (``application/vnd.npm.install-v1+json``) for installers.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from foss_registry.upstream.base import Upstream, parse_time, text_or_none
from foss_registry.upstream.http import NotFoundError, Response, UnavailableError
from foss_registry.upstream.models import Dependency, InstallScript, UpstreamFacts, UpstreamFile

ABBREVIATED = "application/vnd.npm.install-v1+json"
ABBREVIATED_ACCEPT = f"{ABBREVIATED}; q=1.0, application/json; q=0.8, */*"
FULL_ACCEPT = "application/json"
#: A packument listing more versions is refused (real ones stay far below).
MAX_VERSIONS = 50_000
#: The lifecycle scripts npm runs when a package is installed.
INSTALL_SCRIPTS = ("preinstall", "install", "postinstall")
_SCOPES = (
    ("dependencies", "runtime"),
    ("optionalDependencies", "optional"),
    ("peerDependencies", "runtime"),
    ("devDependencies", "dev"),
)


def packument_path(name: str) -> str:
    """A package's path below the registry: ``@scope%2fname`` for scoped names."""
    if name.startswith("@") and "/" in name:
        scope, _, base = name.partition("/")
        return f"{quote(scope, safe='@')}%2f{quote(base, safe='')}"
    return quote(name, safe="")


def _license(meta: dict[str, Any]) -> str | None:
    value = meta.get("license")
    if isinstance(value, dict):
        value = value.get("type")
    if isinstance(value, str) and value.strip():
        return value.strip()
    legacy = meta.get("licenses")
    if isinstance(legacy, list):
        types = [
            item.get("type") if isinstance(item, dict) else item
            for item in legacy
        ]
        names = [t.strip() for t in types if isinstance(t, str) and t.strip()]
        if names:
            return " OR ".join(names)
    return None


def _repository(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("url")
    text = text_or_none(value)
    if text and text.startswith("git+"):
        text = text[4:]
    return text


def _deprecated(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if value is True:
        return "deprecated"
    return None


def _integrity(dist: dict[str, Any]) -> str | None:
    integrity = dist.get("integrity")
    if isinstance(integrity, str) and integrity:
        return integrity
    shasum = dist.get("shasum")
    if isinstance(shasum, str) and len(shasum) == 40:
        try:
            return "sha1-" + base64.b64encode(bytes.fromhex(shasum)).decode()
        except ValueError:
            return None
    return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def facts_from_packument(doc: dict[str, Any], version: str, *, source: str) -> UpstreamFacts:
    """The facts of one version of a full packument (``NotFoundError`` when it lacks it)."""
    versions = doc.get("versions")
    if not isinstance(versions, dict):
        raise UnavailableError("the packument has no versions object", url=source)
    meta = versions.get(version)
    if not isinstance(meta, dict):
        raise NotFoundError(f"the registry lists no version {version}", url=source)
    scripts = _object(meta.get("scripts"))
    install = [
        InstallScript(name=hook, command=str(scripts[hook]))
        for hook in INSTALL_SCRIPTS
        if isinstance(scripts.get(hook), str)
    ]
    if meta.get("gypfile") is True and "install" not in scripts and "preinstall" not in scripts:
        install.append(InstallScript(name="install", command="node-gyp rebuild"))
    deps: list[Dependency] = []
    for key, scope in _SCOPES:
        declared = meta.get(key)
        if isinstance(declared, dict):
            deps.extend(
                Dependency(name=str(dep), requirement=str(req), scope=scope)
                for dep, req in declared.items()
            )
    dist = _object(meta.get("dist"))
    files = []
    tarball = dist.get("tarball")
    if isinstance(tarball, str):
        files.append(
            UpstreamFile(
                filename=tarball.rsplit("/", 1)[-1],
                kind="tarball",
                url=tarball,
                integrity=_integrity(dist),
            )
        )
    times = _object(doc.get("time"))
    return UpstreamFacts(
        source=source,
        license_raw=_license(meta) or _license(doc),
        released_at=parse_time(times.get(version)),
        deprecated=_deprecated(meta.get("deprecated")),
        homepage=text_or_none(meta.get("homepage") or doc.get("homepage")),
        repository=_repository(meta.get("repository") or doc.get("repository")),
        dependencies=deps,
        install_scripts=install,
        files=files,
    )


class NpmUpstream(Upstream):
    """An npm registry (the public one, a mirror, Verdaccio, a repository manager)."""

    ecosystem = "npm"

    def packument_url(self, name: str) -> str:
        """The URL of a package's packument."""
        return self.base_url + packument_path(name)

    async def packument_response(
        self, name: str, *, abbreviated: bool = False
    ) -> tuple[Response, dict[str, Any]]:
        """A package's packument as read (for its validators) and parsed, checked for shape."""
        url = self.packument_url(name)
        response = await self.http.get(
            url, accept=ABBREVIATED_ACCEPT if abbreviated else FULL_ACCEPT
        )
        if "json" not in response.content_type:
            raise UnavailableError(
                f"the registry answered {response.content_type or 'no content type'} "
                "where a JSON packument was asked",
                url=url,
            )
        doc = response.json()
        if not isinstance(doc, dict) or not isinstance(doc.get("versions"), dict):
            raise UnavailableError("the packument has no versions object", url=url)
        if len(doc["versions"]) > MAX_VERSIONS:
            raise UnavailableError(
                f"the packument lists {len(doc['versions'])} versions, "
                f"more than the {MAX_VERSIONS} accepted",
                url=url,
            )
        return response, doc

    async def packument(self, name: str, *, abbreviated: bool = False) -> dict[str, Any]:
        """A package's packument, full or abbreviated."""
        return (await self.packument_response(name, abbreviated=abbreviated))[1]

    async def facts(self, name: str, version: str) -> UpstreamFacts:
        """Facts of one version from the full packument (read once per reader)."""
        doc = await self.once(self.packument_url(name), lambda: self.packument(name))
        if version not in doc["versions"] and version.startswith("v"):
            version = version[1:]
        return facts_from_packument(doc, version, source=self.packument_url(name))
