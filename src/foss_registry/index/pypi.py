"""PyPI's simple repository API (PEP 503 HTML, PEP 691 JSON), filtered to approved versions.

Pure functions: parse an upstream PEP 691 project page, tell each file's
version from its name, keep the files of approved versions, and render the
page the registry answers in either format. Hashes, ``requires-python``,
``yanked``, ``upload-time``, ``size`` and the core-metadata flags (PEP 658/714)
pass through unchanged; file URLs point at the registry itself, relative to
the page (``../<normalised project>/<file name>``), so they depend only on the
normalised project name and the file name, and hold behind any proxy.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import msgspec
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from foss_registry.errors import InvalidInputError
from foss_registry.index.accept import media_ranges
from foss_registry.index.errors import BadUpstreamError, NotAcceptableError

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
LEGACY_HTML_TYPE = "text/html"
#: What the index answers, in the order it prefers when the client is indifferent.
_OFFERED = (HTML_TYPE, LEGACY_HTML_TYPE, JSON_TYPE)

#: A project name as it may appear in a URL (PEP 508, at most 255 characters).
_PROJECT = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,253}[A-Za-z0-9])?$")
#: A distribution file name: no path separators, no leading dot, nothing to escape.
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!~-]{0,254}$")
_HASH_VALUE = re.compile(r"^[0-9a-fA-F]{16,256}$")
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".egg", ".exe", ".msi")
#: Hash names pip and the index know, strongest first.
HASH_PREFERENCE = ("sha256", "sha384", "sha512", "sha224", "sha1", "md5")


@lru_cache(maxsize=4096)
def project_name(raw: str) -> str:
    """Return the PEP 503 normalised form of a project name from a URL, or raise 400."""
    if not _PROJECT.match(raw):
        shown = raw if len(raw) <= 80 else raw[:80] + "…"
        raise InvalidInputError(
            f"{shown!r} is not a valid PyPI project name; use ASCII letters, digits, '.', '_' "
            "and '-', at most 255 characters.",
            code="invalid_name",
        )
    return canonicalize_name(raw)


def check_filename(raw: str) -> str:
    """Return a file name from a URL if it is a plain file name, or raise 400."""
    if not _FILENAME.match(raw) or ".." in raw:
        shown = raw if len(raw) <= 80 else raw[:80] + "…"
        raise InvalidInputError(
            f"{shown!r} is not a distribution file name.", code="invalid_filename"
        )
    return raw


def canonical(version: Version) -> str:
    """The canonical form the registry stores (PEP 440 normal form, trailing zeros dropped)."""
    return canonicalize_version(version)


def file_version(filename: str, project: str) -> Version | None:
    """The version of a distribution file of ``project``, or None if it is not its file.

    Wheels and sdists are read by ``packaging``; older kinds (``.egg``,
    ``.tar.bz2``, ``.exe``) by splitting the name after the project's name.
    """
    lower = filename.lower()
    try:
        if lower.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
            return version if name == project else None
        if lower.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return version if name == project else None
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        pass
    stem = next((filename[: -len(s)] for s in _SDIST_SUFFIXES if lower.endswith(s)), None)
    if stem is None:
        return None
    # name-version[-pyX.Y][-platform]: try each '-' as the end of the name.
    for cut in (i for i, char in enumerate(stem) if char == "-"):
        if canonicalize_name(stem[:cut]) != project:
            continue
        try:
            return Version(stem[cut + 1 :].split("-", 1)[0])
        except InvalidVersion:
            return None
    return None


class _UpstreamFile(msgspec.Struct, rename="kebab"):
    filename: str
    url: str
    hashes: dict[str, str] = {}
    requires_python: str | None = None
    yanked: bool | str = False
    upload_time: str | None = None
    core_metadata: bool | dict[str, str] | None = None
    dist_info_metadata: bool | dict[str, str] | None = None
    size: int | None = None


class _UpstreamMeta(msgspec.Struct, rename="kebab", frozen=True):
    api_version: str = "1.0"


class _UpstreamPage(msgspec.Struct):
    name: str
    files: list[_UpstreamFile]
    meta: _UpstreamMeta = _UpstreamMeta()
    versions: list[str] | None = None


@dataclass(frozen=True)
class DistFile:
    """One file of an upstream project page, with its version told from its name."""

    filename: str
    #: Where upstream serves it (absolute).
    url: str
    hashes: dict[str, str]
    requires_python: str | None
    yanked: bool | str
    upload_time: str | None
    #: PEP 658/714: False, True, or the metadata file's hashes.
    core_metadata: bool | dict[str, str]
    size: int | None
    #: Canonical version (PEP 440, trailing zeros dropped); None when unknown.
    version: str | None

    def digest(self) -> tuple[str, str] | None:
        """The strongest (algorithm, hex digest) upstream gives for the file."""
        return strongest(self.hashes)

    def metadata_digest(self) -> tuple[str, str] | None:
        """The strongest digest of its ``.metadata`` file, when upstream gives one."""
        return strongest(self.core_metadata) if isinstance(self.core_metadata, dict) else None


@dataclass(frozen=True)
class ProjectPage:
    """An upstream project page: its normalised name, files and (PEP 700) versions."""

    name: str
    files: tuple[DistFile, ...]
    #: Every version upstream lists (canonical), including those without files.
    versions: tuple[str, ...]

    def file(self, filename: str) -> DistFile | None:
        """The file of that name, if upstream lists it."""
        return next((f for f in self.files if f.filename == filename), None)


def strongest(hashes: dict[str, str]) -> tuple[str, str] | None:
    """The strongest known (algorithm, hex digest) of a PEP 691 ``hashes`` object."""
    for algorithm in HASH_PREFERENCE:
        value = hashes.get(algorithm)
        if isinstance(value, str) and _HASH_VALUE.match(value):
            return algorithm, value.lower()
    return None


def parse_project_page(data: Any, page_url: str, project: str) -> ProjectPage:
    """Read an upstream page in PEP 691 form (parsed JSON); anything else is a 502."""
    try:
        page = msgspec.convert(data, type=_UpstreamPage)
    except msgspec.ValidationError as exc:
        raise BadUpstreamError(
            f"The upstream index answered the page of {project!r} with something that is not "
            f"a PEP 691 project page ({str(exc)[:120]})."
        ) from None
    files = []
    for item in page.files:
        if not _FILENAME.match(item.filename) or ".." in item.filename:
            continue  # nothing the registry could serve under its own URL
        url = urljoin(page_url, item.url)
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        metadata = item.core_metadata if item.core_metadata is not None else item.dist_info_metadata
        files.append(
            DistFile(
                filename=item.filename,
                url=url.split("#", 1)[0],
                hashes={k.lower(): v for k, v in item.hashes.items()},
                requires_python=item.requires_python,
                yanked=item.yanked,
                upload_time=item.upload_time,
                core_metadata=metadata if metadata is not None else False,
                size=item.size,
                version=canonical(v) if (v := file_version(item.filename, project)) else None,
            )
        )
    versions = []
    for version in page.versions or []:
        try:
            versions.append(canonical(Version(version)))
        except InvalidVersion:
            continue
    if page.versions is None:
        versions = sorted({f.version for f in files if f.version}, key=Version)
    return ProjectPage(name=project, files=tuple(files), versions=tuple(versions))


def approved_files(page: ProjectPage, approved: Collection[str]) -> list[DistFile]:
    """The files whose version is approved (canonical versions), in upstream's order."""
    return [f for f in page.files if f.version is not None and f.version in approved]


@lru_cache(maxsize=256)
def negotiate(accept: str | None) -> str:
    """Pick the answer's content type from an ``Accept`` header (PEP 691), or raise 406."""
    if not accept or not accept.strip():
        return LEGACY_HTML_TYPE
    best: tuple[float, int] | None = None
    chosen = None
    for media, quality in media_ranges(accept):
        if quality <= 0:
            continue
        for rank, offered in enumerate(_OFFERED):
            if (
                media == offered
                or media == "*/*"
                or (media.endswith("/*") and offered.startswith(media[:-1]))
            ):
                score = (quality, -rank)
                if best is None or score > best:
                    best, chosen = score, offered
                break
    if chosen is None:
        raise NotAcceptableError(
            f"The index answers {', '.join(_OFFERED)}; the request accepts none of them."
        )
    return chosen


def file_url(project: str, filename: str) -> str:
    """The file's URL relative to a project page: depends only on the project and file name."""
    return f"../{project}/{quote(filename)}"


def _json_file(f: DistFile, project: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "filename": f.filename,
        "url": file_url(project, f.filename),
        "hashes": f.hashes,
    }
    if f.requires_python is not None:
        item["requires-python"] = f.requires_python
    if f.yanked:
        item["yanked"] = f.yanked
    if f.upload_time is not None:
        item["upload-time"] = f.upload_time
    if f.core_metadata:
        item["core-metadata"] = f.core_metadata
        item["dist-info-metadata"] = f.core_metadata
    if f.size is not None:
        item["size"] = f.size
    return item


def render_json(page: ProjectPage, files: list[DistFile], versions: Iterable[str]) -> bytes:
    """The PEP 691 JSON page of the given files (and PEP 700 versions)."""
    with_size = all(f.size is not None for f in files)
    body: dict[str, Any] = {
        "meta": {"api-version": "1.1" if with_size else "1.0"},
        "name": page.name,
        "files": [_json_file(f, page.name) for f in files],
    }
    if with_size:
        body["versions"] = list(versions)
    return msgspec.json.encode(body)


def _metadata_attr(value: bool | dict[str, str]) -> str:
    digest = strongest(value) if isinstance(value, dict) else None
    return f"{digest[0]}={digest[1]}" if digest else "true"


def render_html(page: ProjectPage, files: list[DistFile]) -> bytes:
    """The PEP 503 HTML page of the given files (with PEP 592/658/714 attributes)."""
    name = escape(page.name)
    lines = [
        "<!DOCTYPE html>",
        "<html><head>",
        '<meta name="pypi:repository-version" content="1.0">',
        f"<title>Links for {name}</title></head><body>",
        f"<h1>Links for {name}</h1>",
    ]
    for f in files:
        href = file_url(page.name, f.filename)
        digest = f.digest()
        if digest:
            href += f"#{digest[0]}={digest[1]}"
        attrs = [f'href="{escape(href)}"']
        if f.requires_python:
            attrs.append(f'data-requires-python="{escape(f.requires_python)}"')
        if f.yanked:
            reason = f.yanked if isinstance(f.yanked, str) else ""
            attrs.append(f'data-yanked="{escape(reason)}"')
        if f.core_metadata:
            value = escape(_metadata_attr(f.core_metadata))
            attrs.append(f'data-core-metadata="{value}"')
            attrs.append(f'data-dist-info-metadata="{value}"')
        lines.append(f"<a {' '.join(attrs)}>{escape(f.filename)}</a><br>")
    lines.append("</body></html>")
    return ("\n".join(lines) + "\n").encode()


def render_root(projects: Iterable[str], content_type: str) -> bytes:
    """The ``/simple/`` page listing the given normalised project names."""
    names = sorted(set(projects))
    if content_type == JSON_TYPE:
        return msgspec.json.encode(
            {"meta": {"api-version": "1.0"}, "projects": [{"name": n} for n in names]}
        )
    links = "\n".join(f'<a href="{quote(n)}/">{escape(n)}</a><br>' for n in names)
    return (
        "<!DOCTYPE html>\n<html><head>\n"
        '<meta name="pypi:repository-version" content="1.0">\n'
        "<title>Simple index</title></head><body>\n"
        f"{links}\n</body></html>\n"
    ).encode()


def render(
    page: ProjectPage, files: list[DistFile], versions: Iterable[str], content_type: str
) -> bytes:
    """The project page in the negotiated format."""
    if content_type == JSON_TYPE:
        return render_json(page, files, versions)
    return render_html(page, files)
