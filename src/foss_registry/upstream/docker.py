"""Docker and OCI images through a registry's distribution API (``/v2/``), the optional
``FOSS_UPSTREAM_DOCKER``: does the tag or digest exist, when was the image built, and what
its annotations and labels say.

One version is read as a client pulls it: the manifest by tag or digest
(``Docker-Content-Digest`` gives the digest the tag points at); for an image
index (a multi-platform image) the ``linux/amd64`` image, else the first that is
not an attestation; then the image's config blob, whose ``created`` is the
release time. The license, source repository and home page come from the OCI
annotations ``org.opencontainers.image.licenses``, ``.source`` and ``.url``, on
the index or manifest first, then from the config's labels (which an image also
inherits from its base image); ``org.opencontainers.image.base.name`` is listed
as a dependency. Every manifest and blob read by digest is checked against it.

Registries that want a token (most do, even for anonymous pulls) answer 401
with a ``Bearer`` challenge: the reader asks the challenge's realm for a token
scoped to the repository's pull, once per repository and reader, and sends it.
Credentials in ``FOSS_UPSTREAM_DOCKER`` (``https://user:password@host/``) go to
the registry and to a realm on the same host, never elsewhere; tokens are never
logged or stored.

The configured registry serves the images named without a registry host
(``nginx`` is ``library/nginx`` there: point it at a mirror of the default
registry) and those named with its own host; an image of another registry is
``not_configured``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from foss_registry.ecosystems.docker import split_repository
from foss_registry.upstream.base import Upstream, parse_time, text_or_none
from foss_registry.upstream.http import (
    AuthenticationRequiredError,
    NotConfiguredError,
    NotFoundError,
    RedirectRefusedError,
    Response,
    UnavailableError,
    UpstreamHttp,
    without_credentials,
)
from foss_registry.upstream.models import Dependency, UpstreamFacts, UpstreamFile

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
#: Every manifest type a pull accepts, as a client asks for them.
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST))
#: The OCI distribution specification's limit of a manifest.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_CONFIG_BYTES = 8 * 1024 * 1024
#: The platform read from a multi-platform image.
PREFERRED_PLATFORM = ("linux", "amd64")
_LICENSES = "org.opencontainers.image.licenses"
_SOURCE = "org.opencontainers.image.source"
_URL = "org.opencontainers.image.url"
_CREATED = "org.opencontainers.image.created"
_BASE_NAME = "org.opencontainers.image.base.name"
_BASE_DIGEST = "org.opencontainers.image.base.digest"
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """A ``WWW-Authenticate`` header as its scheme (lower-case) and parameters."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE_PARAM.findall(rest))


def _sha256(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _check_digest(response: Response, expected: str | None) -> str:
    """The digest of a manifest or blob; ``UnavailableError`` when it is not the one asked."""
    actual = _sha256(response.body)
    if expected is not None and expected.lower().startswith("sha256:") and (
        actual != expected.lower()
    ):
        raise UnavailableError(
            "the registry's bytes do not match the digest they were asked by", url=response.url
        )
    return actual


def choose_image(index: dict[str, Any]) -> dict[str, Any] | None:
    """The entry of an image index to read: linux/amd64, else the first real platform
    (attestations are listed for platform ``unknown/unknown``)."""
    entries = [m for m in index.get("manifests") or [] if isinstance(m, dict) and m.get("digest")]
    images = []
    for entry in entries:
        platform = _strings(entry.get("platform"))
        os_arch = (platform.get("os"), platform.get("architecture"))
        if os_arch == PREFERRED_PLATFORM:
            return entry
        if "unknown" not in os_arch:
            images.append(entry)
    return images[0] if images else None


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def facts_from_image(
    *,
    source: str,
    digest: str,
    repository: str,
    annotations: dict[str, str],
    config: dict[str, Any],
) -> UpstreamFacts:
    """The facts of an image: annotations first, then the config's labels."""
    inner = config.get("config")
    labels = _strings(inner.get("Labels") if isinstance(inner, dict) else None)
    said = labels | annotations

    def fact(key: str) -> str | None:
        return text_or_none(said.get(key))

    base = fact(_BASE_NAME)
    return UpstreamFacts(
        source=source,
        license_raw=fact(_LICENSES),
        released_at=parse_time(config.get("created")) or parse_time(said.get(_CREATED)),
        homepage=fact(_URL),
        repository=fact(_SOURCE),
        dependencies=(
            [Dependency(name=base, requirement=fact(_BASE_DIGEST) or "", scope="runtime")]
            if base
            else []
        ),
        files=[
            UpstreamFile(
                filename=f"{repository}@{digest}",
                kind="manifest",
                url=source,
                sha256=digest.removeprefix("sha256:"),
            )
        ],
    )


class DockerUpstream(Upstream):
    """An OCI distribution registry (the default registry's mirror, or a company registry)."""

    ecosystem = "docker"

    def __init__(self, base_url: str, http: UpstreamHttp) -> None:
        parts = urlsplit(base_url)
        self._host = (parts.hostname or "").lower()
        self._netloc = self._host + (f":{parts.port}" if parts.port else "")
        # Credentials are sent as a header of our own: left in the URL, the client would
        # put them in place of a bearer token.
        super().__init__(without_credentials(base_url), http)
        self._basic: dict[str, str] | None = None
        if parts.username:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self._basic = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        #: Bearer headers by repository, for this reader's life (one enrichment or one run).
        self._tokens: dict[str, dict[str, str]] = {}

    def repository(self, name: str) -> str:
        """The repository's path at the configured registry (``NotConfiguredError`` when the
        name is of another registry)."""
        host, path = split_repository(name)
        if host is not None and host != self._netloc:
            raise NotConfiguredError(
                f"{name} is an image of {host}; FOSS_UPSTREAM_DOCKER reads another registry"
            )
        return path

    def manifest_url(self, repository: str, reference: str) -> str:
        """Where a manifest is read by tag or digest."""
        return f"{self.base_url}v2/{repository}/manifests/{reference}"

    def blob_url(self, repository: str, digest: str) -> str:
        """Where a blob is read by digest."""
        return f"{self.base_url}v2/{repository}/blobs/{digest}"

    async def _token(self, challenge: str, repository: str, url: str) -> dict[str, str]:
        """The handshake: ask the challenge's realm for a pull token of the repository."""
        scheme, params = parse_challenge(challenge)
        if scheme != "bearer" or not params.get("realm"):
            raise UnavailableError(
                "the registry wants credentials (401"
                + (f", {scheme.capitalize()}" if scheme else "")
                + "); give them in FOSS_UPSTREAM_DOCKER",
                url=url,
            )
        realm = params["realm"]
        query = {"scope": params.get("scope") or f"repository:{repository}:pull"}
        if params.get("service"):
            query["service"] = params["service"]
        same_host = (urlsplit(realm).hostname or "").lower() == self._host
        headers = self._basic if same_host else None
        try:
            answer = await self.http.get(
                f"{realm}{'&' if '?' in realm else '?'}{urlencode(query)}",
                headers=headers,
                max_bytes=64 * 1024,
            )
        except NotFoundError as exc:
            raise UnavailableError("the registry's token service answered 404", url=url) from exc
        document = _strings(answer.json())
        token = document.get("token") or document.get("access_token")
        if not isinstance(token, str) or not token:
            raise UnavailableError("the registry's token service gave no token", url=url)
        return {"Authorization": f"Bearer {token}"}

    async def _get(
        self, url: str, repository: str, *, accept: str | None, max_bytes: int
    ) -> Response:
        """A GET with the repository's token, doing the handshake once when a 401 asks."""
        headers = self._tokens.get(repository) or self._basic
        try:
            return await self.http.get(url, accept=accept, max_bytes=max_bytes, headers=headers)
        except AuthenticationRequiredError as exc:
            challenge = exc.challenge
        headers = self._tokens[repository] = await self._token(challenge, repository, url)
        try:
            return await self.http.get(url, accept=accept, max_bytes=max_bytes, headers=headers)
        except AuthenticationRequiredError as exc:
            raise UnavailableError(
                "the registry refused the pull token (401): the repository does not exist "
                "there or needs credentials",
                url=url,
            ) from exc

    async def _manifest(self, repository: str, reference: str) -> tuple[Response, str, Any]:
        url = self.manifest_url(repository, reference)
        response = await self._get(url, repository, accept=MANIFEST_ACCEPT,
                                   max_bytes=MAX_MANIFEST_BYTES)
        digest = _check_digest(response, reference)
        document = response.json()
        if not isinstance(document, dict):
            raise UnavailableError("the manifest is not a JSON object", url=url)
        return response, digest, document

    async def facts(self, name: str, version: str) -> UpstreamFacts:
        """Facts of one tag or digest: its manifest, the chosen image's config blob."""
        repository = self.repository(name)
        top, digest, document = await self._manifest(repository, version)
        annotations = _strings(document.get("annotations"))
        media_type = document.get("mediaType") or top.content_type
        if media_type in (OCI_INDEX, DOCKER_LIST) or "manifests" in document:
            entry = choose_image(document)
            if entry is None:
                raise UnavailableError("the image index lists no image", url=top.url)
            _, _, document = await self._manifest(repository, str(entry["digest"]))
            annotations = _strings(document.get("annotations")) | annotations
        config_ref = document.get("config")
        config: dict[str, Any] = {}
        if isinstance(config_ref, dict) and isinstance(config_ref.get("digest"), str):
            url = self.blob_url(repository, config_ref["digest"])
            try:
                blob = await self._get(url, repository, accept=None, max_bytes=MAX_CONFIG_BYTES)
            except RedirectRefusedError:
                # Registries often serve blobs from a storage host of their own; that
                # redirect is not followed, so the build time is unknown, not the image.
                blob = None
            if blob is not None:
                _check_digest(blob, config_ref["digest"])
                parsed = blob.json()
                config = parsed if isinstance(parsed, dict) else {}
        return facts_from_image(
            source=top.url,
            digest=digest,
            repository=repository,
            annotations=annotations,
            config=config,
        )
