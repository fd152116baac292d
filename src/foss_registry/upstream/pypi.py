"""PyPI through the simple repository API: PEP 691 JSON (PEP 503 HTML when that is all the
index answers), PEP 700 ``upload-time``, PEP 592 yanked, PEP 658/714 core metadata, and the
wheel's (or sdist's) own metadata file as the fallback.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from foss_registry.upstream.base import Upstream, parse_time, text_or_none
from foss_registry.upstream.http import NotFoundError, Response, UnavailableError
from foss_registry.upstream.models import Dependency, UpstreamFacts, UpstreamFile

#: What a PEP 691 client asks for: JSON first, HTML as the fallback.
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
)
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
#: Largest distribution read for its metadata when no PEP 658 file exists.
MAX_DISTRIBUTION_BYTES = 64 * 1024 * 1024
_HOMEPAGE_LABELS = {"homepage", "home"}
_REPOSITORY_LABELS = {"source", "sourcecode", "repository", "code", "github", "gitlab"}


def file_version(filename: str) -> tuple[str, Version] | None:
    """The kind (``wheel``/``sdist``) and version a distribution's file name states."""
    try:
        if filename.endswith(".whl"):
            return "wheel", parse_wheel_filename(filename)[1]
        if filename.endswith((".tar.gz", ".zip")):
            return "sdist", parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None


class _LinkParser(HTMLParser):
    """Collects the anchors of a PEP 503 project page with their data attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs))


def _metadata_flag(value: str | None) -> bool | dict[str, str]:
    """A PEP 658/714 ``data-core-metadata`` value in its PEP 691 form."""
    if value is None:
        return False
    if "=" in value:
        algorithm, _, digest = value.partition("=")
        return {algorithm: digest}
    return value.lower() != "false"


def page_from_html(body: bytes, page_url: str, name: str) -> dict[str, Any]:
    """A PEP 503 HTML project page in PEP 691 JSON form (URLs made absolute)."""
    parser = _LinkParser()
    parser.feed(body.decode("utf-8", "replace"))
    files = []
    for link in parser.links:
        href = link.get("href")
        if not href:
            continue
        url, fragment = urldefrag(urljoin(page_url, href))
        filename = url.rsplit("/", 1)[-1]
        hashes = {}
        if "=" in fragment:
            algorithm, _, digest = fragment.partition("=")
            hashes[algorithm] = digest
        yanked_attr = "data-yanked" in link
        yanked: bool | str = (link.get("data-yanked") or True) if yanked_attr else False
        metadata = link.get("data-core-metadata", link.get("data-dist-info-metadata"))
        entry: dict[str, Any] = {
            "filename": filename,
            "url": url,
            "hashes": hashes,
            "requires-python": link.get("data-requires-python"),
            "yanked": yanked,
            "core-metadata": _metadata_flag(metadata),
        }
        entry["data-dist-info-metadata"] = entry["core-metadata"]
        files.append(entry)
    return {"meta": {"api-version": "1.0"}, "name": canonicalize_name(name), "files": files}


def page_from_json(data: Any, page_url: str) -> dict[str, Any]:
    """A PEP 691 page checked for shape, its file URLs made absolute."""
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise UnavailableError("the project page is not a PEP 691 document", url=page_url)
    files = []
    for item in data["files"]:
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
            continue
        if not isinstance(item.get("url"), str):
            continue
        entry = dict(item)
        entry["url"] = urljoin(page_url, item["url"])
        if not isinstance(entry.get("hashes"), dict):
            entry["hashes"] = {}
        # PEP 714: older indexes name the flag data-dist-info-metadata only.
        flag = entry.get("core-metadata", entry.get("dist-info-metadata", False))
        entry["core-metadata"] = flag
        files.append(entry)
    return {**data, "files": files}


def _label(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _license_text(raw: dict[str, Any]) -> str | None:
    expression = text_or_none(raw.get("license_expression"))
    if expression:
        return expression
    declared = text_or_none(raw.get("license"), max_length=200)
    if declared and "\n" not in declared:
        return declared
    leaves = [
        c.split("::")[-1].strip()
        for c in raw.get("classifiers") or []
        if c.startswith("License ::") and c.count("::") >= 2
    ]
    if leaves:
        return " OR ".join(dict.fromkeys(leaves))
    return declared


def _dependency(text: str) -> Dependency | None:
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None
    spec = str(requirement.specifier)
    if requirement.url:
        spec = f"@ {requirement.url}"
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f"; {requirement.marker}" if requirement.marker else ""
    scope = "optional" if requirement.marker and "extra" in str(requirement.marker) else "runtime"
    return Dependency(name=requirement.name, requirement=f"{extras}{spec}{marker}", scope=scope)


def facts_from_metadata(
    metadata: bytes, *, source: str, files: list[dict[str, Any]]
) -> UpstreamFacts:
    """Facts from a core metadata file (METADATA/PKG-INFO) and the version's page entries."""
    raw, _ = parse_email(metadata)
    urls = {_label(label): url for label, url in (raw.get("project_urls") or {}).items()}
    homepage = text_or_none(raw.get("home_page")) or next(
        (urls[k] for k in urls if k in _HOMEPAGE_LABELS), None
    )
    repository = next((urls[k] for k in urls if k in _REPOSITORY_LABELS), None)
    deps = [d for d in map(_dependency, raw.get("requires_dist") or []) if d is not None]
    return _facts(source, files, license_raw=_license_text(dict(raw)), homepage=homepage,
                  repository=repository, dependencies=deps)


def _facts(source: str, files: list[dict[str, Any]], **known: Any) -> UpstreamFacts:
    times = [t for t in (parse_time(f.get("upload-time")) for f in files) if t is not None]
    yanked = bool(files) and all(f.get("yanked") not in (None, False) for f in files)
    reasons = [f["yanked"] for f in files if isinstance(f.get("yanked"), str) and f["yanked"]]
    listed = []
    for f in files:
        kind = (file_version(f["filename"]) or ("sdist", None))[0]
        sha = f["hashes"].get("sha256")
        listed.append(UpstreamFile(filename=f["filename"], kind=kind, url=f["url"], sha256=sha))
    return UpstreamFacts(
        source=source,
        released_at=min(times) if times else None,
        yanked=yanked,
        yanked_reason=reasons[0] if yanked and reasons else None,
        files=listed,
        **known,
    )


def _metadata_in_wheel(body: bytes) -> bytes | None:
    with zipfile.ZipFile(io.BytesIO(body)) as wheel:
        for info in wheel.infolist():
            parts = info.filename.split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                if info.file_size > 4 * 1024 * 1024:
                    return None
                return wheel.read(info)
    return None


def _metadata_in_sdist(body: bytes, filename: str) -> bytes | None:
    if filename.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for info in archive.infolist():
                if info.filename.count("/") == 1 and info.filename.endswith("/PKG-INFO"):
                    return archive.read(info) if info.file_size < 4 * 1024 * 1024 else None
        return None
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        for member in archive:
            if member.isfile() and member.name.count("/") == 1 and member.name.endswith(
                "/PKG-INFO"
            ):
                handle = archive.extractfile(member)
                if handle is None or member.size > 4 * 1024 * 1024:
                    return None
                return handle.read()
    return None


def _check_hash(body: bytes, hashes: Any, url: str) -> None:
    expected = hashes.get("sha256") if isinstance(hashes, dict) else None
    if isinstance(expected, str) and hashlib.sha256(body).hexdigest() != expected.lower():
        raise UnavailableError("the file's bytes do not match its sha256 upstream", url=url)


class PyPIUpstream(Upstream):
    """A PEP 503/691 simple index (PyPI's own, or a mirror or proxy of it)."""

    ecosystem = "pypi"

    def project_url(self, name: str) -> str:
        """The URL of a project's page: the normalised name below the base, slash-ended."""
        return f"{self.base_url}{canonicalize_name(name)}/"

    async def page_response(self, name: str) -> tuple[Response, dict[str, Any]]:
        """A project's page as read (for its validators) and in PEP 691 JSON form."""
        url = self.project_url(name)
        response = await self.http.get(url, accept=ACCEPT)
        if response.content_type == JSON_TYPE or response.content_type.endswith("json"):
            return response, page_from_json(response.json(), response.url)
        if "html" in response.content_type or not response.content_type:
            return response, page_from_html(response.body, response.url, name)
        raise UnavailableError(
            f"the project page came as {response.content_type}, not JSON or HTML", url=url
        )

    async def page(self, name: str) -> dict[str, Any]:
        """A project's page in PEP 691 JSON form, whichever form the index answered."""
        return (await self.page_response(name))[1]

    async def core_metadata(self, file: dict[str, Any]) -> bytes:
        """The PEP 658 metadata file of a distribution, checked against its hash when given."""
        url = file["url"] + ".metadata"
        response = await self.http.get(url, max_bytes=4 * 1024 * 1024)
        _check_hash(response.body, file.get("core-metadata"), url)
        return response.body

    async def _download(self, file: dict[str, Any]) -> bytes:
        chunks = []
        async with self.http.stream(file["url"], max_bytes=MAX_DISTRIBUTION_BYTES) as (_, body):
            async for chunk in body:
                chunks.append(chunk)
        data = b"".join(chunks)
        _check_hash(data, file.get("hashes"), file["url"])
        return data

    async def _metadata(self, files: list[dict[str, Any]]) -> bytes | None:
        wheels = [f for f in files if f["filename"].endswith(".whl")]
        for file in wheels:
            if file.get("core-metadata"):
                try:
                    return await self.core_metadata(file)
                except NotFoundError:
                    continue
        try:
            for file in wheels[:1]:
                return _metadata_in_wheel(await self._download(file))
            for file in files:
                if file_version(file["filename"]):
                    return _metadata_in_sdist(await self._download(file), file["filename"])
        except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
            raise UnavailableError(f"the distribution could not be read: {exc}") from exc
        return None

    async def facts(self, name: str, version: str) -> UpstreamFacts:
        """Facts of one version from its project page (read once per reader) and its core
        metadata."""
        page = await self.once(self.project_url(name), lambda: self.page(name))
        try:
            wanted = Version(version)
        except InvalidVersion as exc:
            raise NotFoundError(f"{version!r} is not a PEP 440 version") from exc
        files = [
            f
            for f in page["files"]
            if (parsed := file_version(f["filename"])) is not None and parsed[1] == wanted
        ]
        source = self.project_url(name)
        if not files:
            raise NotFoundError(f"the index lists no files of version {version}", url=source)
        metadata = await self._metadata(files)
        if metadata is None:
            return _facts(source, files)
        return facts_from_metadata(metadata, source=source, files=files)
