"""A fake upstream registry on loopback that speaks the real protocols.

One threaded HTTP server answers three registries below one port:

- ``/pypi/simple/``: a PEP 503 HTML / PEP 691 JSON simple index (by ``Accept``),
  with PEP 700 ``upload-time``, PEP 592 yanked, PEP 658/714 ``.metadata`` files,
  and real wheels and sdists built here with zipfile/tarfile (pip installs them);
- ``/npm/``: packuments (full and abbreviated) and tarballs built with tarfile,
  with the right ``dist.integrity`` (sha512) and ``dist.shasum``;
- ``/maven/``: a repository folder with POMs and ``maven-metadata.xml`` (parent
  POMs too: :meth:`FakeUpstream.add_apache_commons` serves a real chain);
- ``/docker/v2/``: an OCI distribution registry (manifests by tag or digest,
  image indexes with an attestation entry, config and layer blobs, the errors
  as JSON), optionally behind the token handshake (``docker_token_auth``: a 401
  with a ``Bearer`` challenge, tokens from ``/docker-auth/token``).

It counts requests per path, answers 304 to conditional requests, and
misbehaves on demand (:meth:`FakeUpstream.misbehave`): ``down`` (the
connection closes without an answer), ``slow`` (no answer before the timeout),
``huge`` (a 50 MB body), ``redirect`` (to another host), ``html`` (an HTML page
where JSON was asked), ``tamper`` (a file's bytes changed after its hash was
published), ``status`` (an HTTP error status). An entity-bomb POM and a
100,000-version packument are built by :meth:`add_entity_bomb_pom` and
:meth:`add_huge_packument`.

Usage::

    with FakeUpstream() as fake:
        fake.add_pypi("demo-pkg", "1.0.0", license_expression="MIT")
        settings.upstream_pypi = fake.pypi_url
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import hashlib
import io
import json
import socket
import tarfile
import threading
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from packaging.utils import canonicalize_name

PEP691 = "application/vnd.pypi.simple.v1+json"
NPM_ABBREVIATED = "application/vnd.npm.install-v1+json"
FIXED_TIME = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
MAVEN_FIXTURES = Path(__file__).parents[1] / "fixtures" / "upstream" / "maven"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def iso(moment: datetime) -> str:
    """An ISO 8601 UTC time as registries write it (``...Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def core_metadata(
    name: str,
    version: str,
    *,
    license_expression: str | None = None,
    license_text: str | None = None,
    classifiers: tuple[str, ...] = (),
    requires_dist: tuple[str, ...] = (),
    project_urls: dict[str, str] | None = None,
    home_page: str | None = None,
    requires_python: str | None = None,
) -> bytes:
    """A core metadata file (METADATA / PKG-INFO), metadata version 2.4."""
    lines = ["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}", "Summary: A test"]
    if home_page:
        lines.append(f"Home-page: {home_page}")
    if license_expression:
        lines.append(f"License-Expression: {license_expression}")
    if license_text:
        lines.append(f"License: {license_text}")
    lines += [f"Classifier: {c}" for c in classifiers]
    lines += [f"Project-URL: {k}, {v}" for k, v in (project_urls or {}).items()]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Requires-Dist: {r}" for r in requires_dist]
    return ("\n".join(lines) + "\n\n").encode()


def build_wheel(name: str, version: str, metadata: bytes) -> tuple[str, bytes]:
    """A pure-Python wheel pip installs: a module, METADATA, WHEEL and RECORD."""
    dist = canonicalize_name(name).replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{dist}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{info}/METADATA": metadata,
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: fake-upstream\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    record += f"{info}/RECORD,,\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files.items():
            wheel.writestr(zipfile.ZipInfo(path, (2024, 1, 2, 3, 4, 5)), data)
        wheel.writestr(zipfile.ZipInfo(f"{info}/RECORD", (2024, 1, 2, 3, 4, 5)), record)
    return f"{dist}-{version}-py3-none-any.whl", buffer.getvalue()


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, data in members.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = int(FIXED_TIME.timestamp())
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def build_sdist(name: str, version: str, metadata: bytes) -> tuple[str, bytes]:
    """A source distribution: PKG-INFO and a pyproject.toml in ``{name}-{version}/``."""
    dist = canonicalize_name(name).replace("-", "_")
    top = f"{dist}-{version}"
    pyproject = (
        f'[project]\nname = "{name}"\nversion = "{version}"\n'
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    ).encode()
    data = _tar(
        {
            f"{top}/PKG-INFO": metadata,
            f"{top}/pyproject.toml": pyproject,
            f"{top}/{dist}/__init__.py": f"VERSION = {version!r}\n".encode(),
        }
    )
    return f"{top}.tar.gz", data


def build_npm_tarball(package_json: dict[str, Any]) -> bytes:
    """An npm tarball: ``package/package.json`` and ``package/index.js``."""
    return _tar(
        {
            "package/package.json": json.dumps(package_json, indent=2).encode(),
            "package/index.js": b"module.exports = 42;\n",
        }
    )


def npm_integrity(data: bytes) -> str:
    """The Subresource Integrity string npm writes (sha512, base64)."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@dataclass
class PyPIFile:
    """One distribution file of the fake simple index."""

    filename: str
    data: bytes
    metadata: bytes
    upload_time: datetime
    yanked: bool | str = False
    requires_python: str | None = None
    metadata_file: bool = True
    sha256: str = ""

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.data).hexdigest()


@dataclass
class Project:
    """A PyPI project: its name as first added and its files."""

    name: str
    files: list[PyPIFile] = field(default_factory=list)


class FakeUpstream:
    """The fake registries and their server; a context manager (see the module docstring)."""

    def __init__(self) -> None:
        self.projects: dict[str, Project] = {}
        self.packuments: dict[str, dict[str, Any]] = {}
        self.raw: dict[str, tuple[bytes, str, str | None]] = {}  # path -> body, type, last-mod
        self.requests: Counter[str] = Counter()
        #: TCP connections accepted (a client that keeps its connections alive opens few).
        self.connections = 0
        self.conditional: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.log: list[tuple[str, dict[str, str]]] = []
        self._misbehaviour: dict[str, tuple[str, Any]] = {}
        self._maven_versions: dict[str, list[str]] = {}
        #: Registry content: repository -> tag -> manifest digest; digest -> (body, type).
        self.docker_tags: dict[str, dict[str, str]] = {}
        self.docker_blobs: dict[str, tuple[bytes, str]] = {}
        #: Ask for a bearer token (scoped to the repository) before any /docker/v2/ answer.
        self.docker_token_auth = False
        #: False: every token is refused (a private repository, or one that does not exist).
        self.docker_accept_tokens = True
        self.tokens_issued = 0
        self.html_only = False
        #: A project whose page answers for every unknown project name (benchmarks).
        self.fallback_project: str | None = None
        self.slow_seconds = 30.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.pypi_url = f"{self.url}/pypi/simple/"
        self.npm_url = f"{self.url}/npm/"
        self.maven_url = f"{self.url}/maven/"
        self.docker_url = f"{self.url}/docker/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeUpstream:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- behaviour -----------------------------------------------------------------------

    def misbehave(self, mode: str, path_prefix: str = "/", value: Any = None) -> None:
        """Make requests below ``path_prefix`` misbehave: ``down``, ``slow``, ``huge``,
        ``redirect``, ``html``, ``tamper`` or ``status`` (``value`` the status code)."""
        self._misbehaviour[path_prefix] = (mode, value)

    def behave(self) -> None:
        """Stop every misbehaviour."""
        self._misbehaviour.clear()

    def count(self, path_prefix: str = "/") -> int:
        """Requests received below a path."""
        with self._lock:
            return sum(n for path, n in self.requests.items() if path.startswith(path_prefix))

    def _mode_for(self, path: str) -> tuple[str, Any] | None:
        best = None
        for prefix, mode in self._misbehaviour.items():
            if path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, mode)
        return best[1] if best else None

    # --- PyPI ------------------------------------------------------------------------------

    def add_pypi(
        self,
        name: str,
        version: str,
        *,
        wheel: bool = True,
        sdist: bool = True,
        uploaded: datetime | None = None,
        yanked: bool | str = False,
        metadata_file: bool = True,
        requires_python: str | None = None,
        **metadata: Any,
    ) -> list[PyPIFile]:
        """Add a version of a project, built as a real wheel and/or sdist."""
        meta = core_metadata(name, version, requires_python=requires_python, **metadata)
        project = self.projects.setdefault(canonicalize_name(name), Project(name))
        moment = uploaded or FIXED_TIME
        added = []
        builders = ([build_wheel] if wheel else []) + ([build_sdist] if sdist else [])
        for offset, build in enumerate(builders):
            filename, data = build(name, version, meta)
            added.append(
                PyPIFile(
                    filename,
                    data,
                    meta,
                    moment + timedelta(seconds=offset),
                    yanked,
                    requires_python,
                    metadata_file and filename.endswith(".whl"),
                )
            )
        project.files.extend(added)
        return added

    def pypi_file_url(self, project: str, filename: str) -> str:
        """Where a distribution file is served."""
        return f"{self.url}/pypi/files/{canonicalize_name(project)}/{filename}"

    def _pypi_page_json(self, key: str) -> bytes:
        project = self.projects[key]
        files = []
        for f in project.files:
            entry: dict[str, Any] = {
                "filename": f.filename,
                "url": f"../../files/{key}/{f.filename}",
                "hashes": {"sha256": f.sha256},
                "requires-python": f.requires_python,
                "upload-time": iso(f.upload_time),
                "size": len(f.data),
                "yanked": f.yanked,
            }
            if f.metadata_file:
                digest = {"sha256": hashlib.sha256(f.metadata).hexdigest()}
                entry["core-metadata"] = digest
                entry["data-dist-info-metadata"] = digest
            files.append(entry)
        versions = sorted({f.filename for f in project.files})
        doc = {
            "meta": {"api-version": "1.1", "_last-serial": len(project.files)},
            "name": key,
            "versions": versions,
            "files": files,
        }
        return json.dumps(doc).encode()

    def _pypi_page_html(self, key: str) -> bytes:
        project = self.projects[key]
        links = []
        for f in project.files:
            attrs = f' href="/pypi/files/{key}/{f.filename}#sha256={f.sha256}"'
            if f.requires_python:
                attrs += f' data-requires-python="{f.requires_python.replace(">", "&gt;").replace("<", "&lt;")}"'
            if f.yanked is not False:
                reason = f.yanked if isinstance(f.yanked, str) else ""
                attrs += f' data-yanked="{reason}"'
            if f.metadata_file:
                digest = hashlib.sha256(f.metadata).hexdigest()
                attrs += f' data-core-metadata="sha256={digest}" data-dist-info-metadata="sha256={digest}"'
            links.append(f"<a{attrs}>{f.filename}</a><br/>")
        body = (
            '<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.1">'
            f"<title>Links for {key}</title></head><body><h1>Links for {key}</h1>"
            + "".join(links)
            + "</body></html>"
        )
        return body.encode()

    # --- npm -------------------------------------------------------------------------------

    def add_npm(
        self,
        name: str,
        version: str,
        *,
        license: Any = "MIT",
        published: datetime | None = None,
        scripts: dict[str, str] | None = None,
        deprecated: str | None = None,
        dependencies: dict[str, str] | None = None,
        dev_dependencies: dict[str, str] | None = None,
        repository: Any = None,
        homepage: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Add a version of a package with a real tarball; returns the version's document."""
        base = name.rsplit("/", 1)[-1]
        package_json: dict[str, Any] = {"name": name, "version": version, "main": "index.js"}
        if license is not None:
            package_json["license"] = license
        if scripts:
            package_json["scripts"] = scripts
        if dependencies:
            package_json["dependencies"] = dependencies
        if dev_dependencies:
            package_json["devDependencies"] = dev_dependencies
        if repository is not None:
            package_json["repository"] = repository
        if homepage:
            package_json["homepage"] = homepage
        package_json.update(extra or {})
        tarball = build_npm_tarball(package_json)
        filename = f"{base}-{version}.tgz"
        tar_path = f"/npm/{name}/-/{filename}"
        self.raw[tar_path] = (tarball, "application/octet-stream", None)
        meta = dict(package_json)
        meta["_id"] = f"{name}@{version}"
        meta["dist"] = {
            "integrity": npm_integrity(tarball),
            "shasum": hashlib.sha1(tarball).hexdigest(),
            "tarball": f"{self.url}{tar_path}",
        }
        if deprecated:
            meta["deprecated"] = deprecated
        if scripts and any(k in scripts for k in ("preinstall", "install", "postinstall")):
            meta["hasInstallScript"] = True
        doc = self.packuments.setdefault(
            name,
            {"_id": name, "name": name, "dist-tags": {}, "versions": {}, "time": {}},
        )
        doc["versions"][version] = meta
        moment = published or FIXED_TIME
        doc["time"][version] = iso(moment)
        doc["time"].setdefault("created", iso(moment))
        doc["time"]["modified"] = iso(moment)
        if "-" not in version:
            doc["dist-tags"]["latest"] = version
        if license is not None:
            doc["license"] = license
        return meta

    def add_huge_packument(self, name: str, versions: int = 100_000) -> None:
        """A packument listing ``versions`` versions (a malicious or broken registry)."""
        doc: dict[str, Any] = {"name": name, "dist-tags": {"latest": "0.0.0"}, "versions": {}}
        for i in range(versions):
            v = f"0.{i // 1000}.{i % 1000}"
            doc["versions"][v] = {"name": name, "version": v, "dist": {"tarball": "x"}}
        # Served from bytes made once: a test's short timeout measures the client, not this.
        self.raw[f"/npm/{name}"] = (json.dumps(doc).encode(), "application/json", None)

    def tarball_path(self, name: str, version: str) -> str:
        """The path of a package version's tarball on this server."""
        return f"/npm/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"

    @staticmethod
    def _abbreviate(doc: dict[str, Any]) -> dict[str, Any]:
        keep = (
            "name", "version", "dependencies", "optionalDependencies", "devDependencies",
            "peerDependencies", "bin", "engines", "dist", "deprecated", "hasInstallScript",
        )
        versions = {
            v: {k: meta[k] for k in keep if k in meta} for v, meta in doc["versions"].items()
        }
        return {
            "name": doc["name"],
            "dist-tags": doc.get("dist-tags", {}),
            "versions": versions,
            "modified": doc.get("time", {}).get("modified", iso(FIXED_TIME)),
        }

    # --- Maven -----------------------------------------------------------------------------

    def add_maven(
        self,
        name: str,
        version: str,
        *,
        licenses: tuple[str, ...] = ("The Apache Software License, Version 2.0",),
        scm_url: str | None = None,
        url: str | None = None,
        dependencies: tuple[tuple[str, str, str], ...] = (),
        last_modified: datetime | None = None,
        pom: bytes | None = None,
    ) -> None:
        """Add a version's POM (built from the arguments unless given) and the metadata file."""
        group, artifact = name.split(":", 1)
        folder = f"/maven/{group.replace('.', '/')}/{artifact}"
        if pom is None:
            lic = "".join(f"<license><name>{n}</name></license>" for n in licenses)
            deps = "".join(
                f"<dependency><groupId>{d.split(':')[0]}</groupId>"
                f"<artifactId>{d.split(':')[1]}</artifactId><version>{v}</version>"
                f"<scope>{s}</scope></dependency>"
                for d, v, s in dependencies
            )
            pom = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<project xmlns="http://maven.apache.org/POM/4.0.0">'
                f"<modelVersion>4.0.0</modelVersion><groupId>{group}</groupId>"
                f"<artifactId>{artifact}</artifactId><version>{version}</version>"
                + (f"<url>{url}</url>" if url else "")
                + f"<licenses>{lic}</licenses>"
                + (f"<scm><url>{scm_url}</url></scm>" if scm_url else "")
                + f"<dependencies>{deps}</dependencies></project>"
            ).encode()
        moment = email.utils.format_datetime(last_modified or FIXED_TIME, usegmt=True)
        self.raw[f"{folder}/{version}/{artifact}-{version}.pom"] = (pom, "text/xml", moment)
        if b"<packaging>pom</packaging>" not in pom:  # a parent or a BOM has no jar
            self.raw[f"{folder}/{version}/{artifact}-{version}.jar"] = (
                b"PK\x05\x06" + b"\0" * 18,
                "application/java-archive",
                moment,
            )
        meta_path = f"{folder}/maven-metadata.xml"
        versions = self._maven_versions
        versions.setdefault(meta_path, []).append(version)
        listed = "".join(f"<version>{v}</version>" for v in versions[meta_path])
        metadata = (
            f"<metadata><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
            f"<versioning><latest>{version}</latest><release>{version}</release>"
            f"<versions>{listed}</versions><lastUpdated>20240102030405</lastUpdated>"
            "</versioning></metadata>"
        ).encode()
        self.raw[meta_path] = (metadata, "text/xml", moment)

    def add_apache_commons(self) -> None:
        """commons-lang3 3.14.0 with its parents commons-parent 64 and apache 30, from the
        fixture POMs (real shape; the license is only in the ASF parent, two levels up)."""
        for name, version, filename in (
            ("org.apache:apache", "30", "apache-30.pom"),
            ("org.apache.commons:commons-parent", "64", "commons-parent-64.pom"),
            ("org.apache.commons:commons-lang3", "3.14.0", "commons-lang3-3.14.0.pom"),
        ):
            self.add_maven(name, version, pom=(MAVEN_FIXTURES / filename).read_bytes())

    def add_entity_bomb_pom(self, name: str, version: str) -> None:
        """A POM whose DTD expands to gigabytes (the billion laughs)."""
        entities = '<!ENTITY lol "lol">' + "".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        )
        pom = (
            f'<?xml version="1.0"?><!DOCTYPE project [{entities}]>'
            f"<project><licenses><license><name>&lol9;</name></license></licenses></project>"
        ).encode()
        self.add_maven(name, version, pom=pom)

    # --- Docker (OCI distribution) -------------------------------------------------------

    def _blob(self, data: bytes, media_type: str) -> dict[str, Any]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.docker_blobs[digest] = (data, media_type)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def add_docker(
        self,
        name: str,
        tag: str,
        *,
        created: datetime | None = None,
        labels: dict[str, str] | None = None,
        platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64"),
        docker_format: bool = False,
        index_annotations: dict[str, str] | None = None,
    ) -> str:
        """Push an image under a tag; returns the digest the tag points at.

        With several platforms (the default) the tag names an OCI image index
        listing one image manifest per platform and, as BuildKit pushes them, an
        attestation manifest for platform ``unknown/unknown``. ``docker_format``
        pushes one Docker schema 2 manifest instead. Each image's config blob is
        an OCI image config with ``created`` and the ``Labels``.
        """
        moment = iso(created or FIXED_TIME).replace(".000000Z", "Z")
        layer = self._blob(_tar({"etc/hello.txt": b"hello\n"}), DOCKER_LAYER if docker_format else OCI_LAYER)
        manifests = []
        for platform in platforms if not docker_format else platforms[:1]:
            os_name, _, arch = platform.partition("/")
            config = {
                "created": moment,
                "architecture": arch,
                "os": os_name,
                "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Cmd": ["/bin/sh"],
                           "Labels": dict(labels or {})},
                "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]},
                "history": [{"created": moment, "created_by": "COPY hello.txt /etc/ # buildkit"}],
            }
            config_ref = self._blob(json.dumps(config).encode(),
                                    DOCKER_CONFIG if docker_format else OCI_CONFIG)
            manifest_type = DOCKER_MANIFEST if docker_format else OCI_MANIFEST
            manifest = {"schemaVersion": 2, "mediaType": manifest_type,
                        "config": config_ref, "layers": [layer]}
            ref = self._blob(json.dumps(manifest, indent=3).encode(), manifest_type)
            manifests.append(ref | {"platform": {"architecture": arch, "os": os_name}})
        if docker_format or len(manifests) == 1:
            top = manifests[0]["digest"]
        else:
            attestation = self._blob(json.dumps({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": self._blob(b"{}", "application/vnd.in-toto+json"), "layers": [],
            }).encode(), OCI_MANIFEST)
            attestation |= {
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {"vnd.docker.reference.digest": manifests[0]["digest"],
                                "vnd.docker.reference.type": "attestation-manifest"},
            }
            index: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX,
                                     "manifests": [*manifests, attestation]}
            if index_annotations:
                index["annotations"] = index_annotations
            top = self._blob(json.dumps(index).encode(), OCI_INDEX)["digest"]
        self.docker_tags.setdefault(name, {})[tag] = top
        return top

    def docker_token(self, repository: str) -> str:
        """The bearer token the fake issues for pulling a repository."""
        return "fake-" + hashlib.sha256(repository.encode()).hexdigest()[:24]

    def _docker(self, path: str) -> tuple[int, bytes, str, dict[str, str]]:
        """Status, body, type and headers of a /docker/v2/ path."""
        rest = path[len("/docker/v2/"):]
        version_header = {"Docker-Distribution-API-Version": "registry/2.0"}
        if not rest:
            return 200, b"{}", "application/json", version_header

        def error(code: str, message: str, status: int = 404) -> tuple[int, bytes, str, dict[str, str]]:
            body = json.dumps({"errors": [{"code": code, "message": message, "detail": {}}]})
            return status, body.encode(), "application/json", version_header

        for kind in ("/manifests/", "/blobs/"):
            name, found, reference = rest.rpartition(kind)
            if found:
                break
        else:
            return error("UNSUPPORTED", "the operation is unsupported", 404)
        if name not in self.docker_tags:
            return error("NAME_UNKNOWN", "repository name not known to registry")
        if kind == "/manifests/":
            digest = reference if reference.startswith("sha256:") else self.docker_tags[name].get(reference)
            if digest is None or digest not in self.docker_blobs:
                return error("MANIFEST_UNKNOWN", "manifest unknown")
        else:
            digest = reference
            if digest not in self.docker_blobs:
                return error("BLOB_UNKNOWN", "blob unknown to registry")
        body, media_type = self.docker_blobs[digest]
        if kind == "/blobs/":
            media_type = "application/octet-stream"
        return 200, body, media_type, version_header | {"Docker-Content-Digest": digest}

    # --- serving -------------------------------------------------------------------------

    def resolve(self, path: str, accept: str) -> tuple[bytes, str, str | None] | None:
        """The body, content type and Last-Modified of a path, or None for a 404."""
        if path.startswith("/pypi/simple/"):
            rest = path[len("/pypi/simple/") :].strip("/")
            if not rest:
                names = "".join(f'<a href="{k}/">{p.name}</a>' for k, p in self.projects.items())
                return f"<html><body>{names}</body></html>".encode(), "text/html", None
            key = canonicalize_name(rest)
            if key not in self.projects and self.fallback_project:
                key = canonicalize_name(self.fallback_project)
            if key not in self.projects:
                return None
            if not self.html_only and "application/vnd.pypi.simple.v1+json" in accept:
                return self._pypi_page_json(key), PEP691, None
            return self._pypi_page_html(key), "text/html; charset=utf-8", None
        if path.startswith("/pypi/files/"):
            key, _, filename = path[len("/pypi/files/") :].partition("/")
            project = self.projects.get(key)
            if project is None:
                return None
            for f in project.files:
                if filename == f.filename:
                    return f.data, "application/octet-stream", None
                if filename == f.filename + ".metadata" and f.metadata_file:
                    return f.metadata, "application/octet-stream", None
            return None
        if path.startswith("/npm/") and "/-/" not in path:
            name = unquote(path[len("/npm/") :])
            doc = self.packuments.get(name)
            if doc is None:
                return self.raw.get(unquote(path))
            if NPM_ABBREVIATED in accept:
                return json.dumps(self._abbreviate(doc)).encode(), NPM_ABBREVIATED, None
            return json.dumps(doc).encode(), "application/json", None
        return self.raw.get(unquote(path))


def free_port_url() -> str:
    """A loopback URL where nothing listens (an upstream that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeUpstream


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle's algorithm on, a
    # kept-alive connection would wait for the client's delayed ACK (40 ms) at
    # every answer, which no real registry's server does.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.fake._lock:
            self.server.fake.connections += 1

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, *, head: bool) -> None:
        fake = self.server.fake
        path = urlsplit(self.path).path
        headers = {k.lower(): v for k, v in self.headers.items()}
        with fake._lock:
            fake.requests[path] += 1
            fake.log.append((path, headers))
        mode = fake._mode_for(path)
        if mode is not None and self._misbehave(mode, path, headers):
            return
        if path.startswith("/docker/v2/") or path == "/docker-auth/token":
            self._registry(path, headers, head=head)
            return
        found = fake.resolve(path, headers.get("accept", ""))
        if found is None:
            self._send(404, b'{"error":"Not found"}', "application/json", head=head)
            return
        body, content_type, last_modified = found
        if mode is not None and mode[0] == "tamper":
            body = body[:-1] + bytes([body[-1] ^ 0xFF]) if body else b"x"
        etag = '"' + hashlib.sha256(body + content_type.encode()).hexdigest()[:32] + '"'
        if "if-none-match" in headers or "if-modified-since" in headers:
            with fake._lock:
                fake.conditional[path] += 1
            if headers.get("if-none-match") == etag or (
                "if-none-match" not in headers
                and last_modified
                and headers.get("if-modified-since") == last_modified
            ):
                with fake._lock:
                    fake.not_modified[path] += 1
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        extra = {"ETag": etag}
        if last_modified:
            extra["Last-Modified"] = last_modified
        self._send(200, body, content_type, head=head, extra=extra)

    def _registry(self, path: str, headers: dict[str, str], *, head: bool) -> None:
        """The OCI distribution API, behind the token handshake when the fake asks for it."""
        fake = self.server.fake
        if path == "/docker-auth/token":
            query = dict(parse_qsl(urlsplit(self.path).query))
            scope = query.get("scope", "")
            repository = scope.split(":")[1] if scope.count(":") == 2 else ""
            with fake._lock:
                fake.tokens_issued += 1
            token = fake.docker_token(repository)
            body = {"token": token, "access_token": token, "expires_in": 300,
                    "issued_at": iso(datetime.now(UTC))}
            self._send(200, json.dumps(body).encode(), "application/json", head=head)
            return
        rest = path[len("/docker/v2/"):]
        name = next((rest.rpartition(k)[0] for k in ("/manifests/", "/blobs/") if k in rest), "")
        if fake.docker_token_auth:
            wanted = f"Bearer {fake.docker_token(name)}" if name else None
            given = headers.get("authorization")
            refused = not fake.docker_accept_tokens or (wanted is not None and given != wanted)
            if given is None or refused:
                scope = f',scope="repository:{name}:pull"' if name else ""
                challenge = f'Bearer realm="{fake.url}/docker-auth/token",service="fake-registry"{scope}'
                body = json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                               "message": "authentication required", "detail": None}]})
                self._send(401, body.encode(), "application/json", head=head,
                           extra={"WWW-Authenticate": challenge})
                return
        status, body, content_type, extra = fake._docker(path)
        mode = fake._mode_for(path)
        if status == 200 and mode is not None and mode[0] == "tamper":
            body = body[:-1] + bytes([body[-1] ^ 0xFF])
        self._send(status, body, content_type, head=head, extra=extra)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        head: bool = False,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    def _misbehave(self, mode: tuple[str, Any], path: str, headers: dict[str, str]) -> bool:
        fake = self.server.fake
        kind, value = mode
        if kind == "down":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if kind == "slow":
            fake._stop.wait(float(value or fake.slow_seconds))
            self.close_connection = True
            return True
        if kind == "status":
            self._send(int(value or 503), b"upstream trouble", "text/plain")
            return True
        if kind == "redirect":
            target = value or f"http://localhost:{fake.port}{path}"
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        if kind == "html":
            self._send(200, b"<html><body>Sign in</body></html>", "text/html")
            return True
        if kind == "huge":
            size = int(value or 50 * 1024 * 1024)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()  # no Content-Length: the client must count
            self.close_connection = True
            chunk = b" " * 65536
            try:
                sent = 0
                while sent < size and not fake._stop.is_set():
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return True
        return False
