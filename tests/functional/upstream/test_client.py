"""The upstream readers against a fake registry on loopback speaking the real protocols."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from foss_registry.upstream import (
    HttpLimits,
    MavenUpstream,
    NotFoundError,
    NpmUpstream,
    PyPIUpstream,
    ResponseCache,
    UnavailableError,
    UpstreamHttp,
    run_sync,
)
from tests.fakes.upstream import FakeUpstream, free_port_url, npm_integrity

FAST = HttpLimits(timeout=0.5, deadline=1.0, retries=1, backoff=0.01, max_bytes=1024 * 1024)


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


def read(coro_factory, cache: ResponseCache | None = None, limits: HttpLimits = FAST):
    async def go():
        async with UpstreamHttp(limits, cache=cache) as http:
            return await coro_factory(http)

    return run_sync(go())


def test_pypi_facts_come_from_the_pep691_page_and_the_pep658_metadata_file(fake: FakeUpstream) -> None:
    uploaded = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
    fake.add_pypi(
        "Demo_Pkg", "1.2.0", uploaded=uploaded, license_expression="MIT OR Apache-2.0",
        requires_dist=("requests>=2.31", "rich; extra == 'cli'"),
        project_urls={"Source Code": "https://git.example.internal/demo", "Homepage": "https://demo.example.internal"},
    )
    fake.add_pypi("Demo_Pkg", "1.3.0")
    facts = read(lambda http: PyPIUpstream(fake.pypi_url, http).facts("demo.pkg", "1.2"))
    assert facts.source == fake.pypi_url + "demo-pkg/"
    assert facts.license_raw == "MIT OR Apache-2.0"
    assert facts.released_at == uploaded
    assert facts.repository == "https://git.example.internal/demo"
    assert facts.homepage == "https://demo.example.internal"
    assert [(d.name, d.requirement, d.scope) for d in facts.dependencies] == [
        ("requests", ">=2.31", "runtime"), ("rich", '; extra == "cli"', "optional"),
    ]
    assert sorted(f.kind for f in facts.files) == ["sdist", "wheel"]
    assert all(len(f.sha256 or "") == 64 for f in facts.files)
    assert not facts.yanked
    # The metadata came from the .metadata file: the wheel itself was never downloaded.
    assert fake.count("/pypi/files/demo-pkg/demo_pkg-1.2.0-py3-none-any.whl.metadata") == 1
    assert fake.requests["/pypi/files/demo-pkg/demo_pkg-1.2.0-py3-none-any.whl"] == 0


def test_pypi_page_is_pep691_json_with_absolute_urls(fake: FakeUpstream) -> None:
    fake.add_pypi("demo", "1.0", requires_python=">=3.9", yanked="broken build")
    page = read(lambda http: PyPIUpstream(fake.pypi_url, http).page("Demo"))
    wheel = next(f for f in page["files"] if f["filename"].endswith(".whl"))
    assert wheel["url"] == fake.pypi_file_url("demo", wheel["filename"])
    assert wheel["requires-python"] == ">=3.9"
    assert wheel["yanked"] == "broken build"
    assert wheel["upload-time"].startswith("2024-01-02T03:04:05")
    assert set(wheel["core-metadata"]) == {"sha256"}
    assert len(wheel["hashes"]["sha256"]) == 64


def test_pypi_html_only_index_gives_the_same_page_and_facts(fake: FakeUpstream) -> None:
    fake.html_only = True
    fake.add_pypi("demo", "1.0", requires_python=">=3.9,<4", yanked="bad metadata", license_expression="BSD-3-Clause")

    async def both(http):
        upstream = PyPIUpstream(fake.pypi_url, http)
        return await upstream.page("demo"), await upstream.facts("demo", "1.0")

    page, facts = read(both)
    wheel = next(f for f in page["files"] if f["filename"].endswith(".whl"))
    assert wheel["requires-python"] == ">=3.9,<4"
    assert wheel["yanked"] == "bad metadata"
    assert wheel["url"].startswith(fake.url + "/pypi/files/demo/")
    assert facts.license_raw == "BSD-3-Clause"
    assert facts.yanked and facts.yanked_reason == "bad metadata"
    assert facts.released_at is None  # PEP 503 HTML has no upload-time


def test_pypi_without_metadata_file_reads_the_sdist(fake: FakeUpstream) -> None:
    fake.add_pypi("oldpkg", "0.9", wheel=False, license_text="GPL-2.0-or-later")
    facts = read(lambda http: PyPIUpstream(fake.pypi_url, http).facts("oldpkg", "0.9"))
    assert [f.kind for f in facts.files] == ["sdist"]
    assert facts.license_raw == "GPL-2.0-or-later"


def test_pypi_license_from_classifiers(fake: FakeUpstream) -> None:
    fake.add_pypi("classic", "1.0", metadata_file=False,
                  classifiers=("License :: OSI Approved :: MIT License", "Programming Language :: Python"))
    facts = read(lambda http: PyPIUpstream(fake.pypi_url, http).facts("classic", "1.0"))
    assert facts.license_raw == "MIT License"


def test_pypi_unknown_project_and_version_are_not_found(fake: FakeUpstream) -> None:
    fake.add_pypi("demo", "1.0")
    with pytest.raises(NotFoundError):
        read(lambda http: PyPIUpstream(fake.pypi_url, http).facts("nothere", "1.0"))
    with pytest.raises(NotFoundError, match=r"no files of version 2\.0"):
        read(lambda http: PyPIUpstream(fake.pypi_url, http).facts("demo", "2.0"))


def test_pypi_tampered_distribution_is_refused(fake: FakeUpstream) -> None:
    fake.add_pypi("demo", "1.0", metadata_file=False)
    fake.misbehave("tamper", "/pypi/files/")
    with pytest.raises(UnavailableError, match="do not match its sha256"):
        read(lambda http: PyPIUpstream(fake.pypi_url, http).facts("demo", "1.0"))


def test_pip_installs_from_the_fake_index(fake: FakeUpstream, tmp_path: Path) -> None:
    fake.add_pypi("fake-demo", "1.0.0")
    fake.add_pypi("fake-demo", "2.0.0")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
         "--no-cache-dir", "--index-url", fake.pypi_url, "--target", str(tmp_path), "fake-demo==1.0.0"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fake_demo" / "__init__.py").read_text() == "VERSION = '1.0.0'\n"


def test_npm_facts_from_the_packument(fake: FakeUpstream) -> None:
    published = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    fake.add_npm(
        "@acme/left-pad", "1.3.0", license="ISC", published=published,
        scripts={"postinstall": "node setup.js", "test": "jest"}, deprecated="use String.padStart",
        dependencies={"lodash": "^4.17.21"}, dev_dependencies={"jest": "^29"},
        repository={"type": "git", "url": "git+https://git.example.internal/left-pad.git"},
    )
    facts = read(lambda http: NpmUpstream(fake.npm_url, http).facts("@acme/left-pad", "1.3.0"))
    assert facts.source == fake.npm_url + "@acme%2fleft-pad"
    assert facts.license_raw == "ISC"
    assert facts.released_at == published
    assert facts.deprecated == "use String.padStart"
    assert [(s.name, s.command) for s in facts.install_scripts] == [("postinstall", "node setup.js")]
    assert [(d.name, d.requirement, d.scope) for d in facts.dependencies] == [
        ("lodash", "^4.17.21", "runtime"), ("jest", "^29", "dev"),
    ]
    assert facts.repository == "https://git.example.internal/left-pad.git"
    tarball = fake.raw[fake.tarball_path("@acme/left-pad", "1.3.0")][0]
    assert [(f.filename, f.kind, f.integrity) for f in facts.files] == [
        ("left-pad-1.3.0.tgz", "tarball", npm_integrity(tarball))
    ]


def test_npm_abbreviated_packument_and_not_found(fake: FakeUpstream) -> None:
    fake.add_npm("demo", "1.0.0", scripts={"install": "node-gyp rebuild"})

    async def go(http):
        upstream = NpmUpstream(fake.npm_url, http)
        return await upstream.packument("demo", abbreviated=True), await upstream.packument("demo")

    short, full = read(go)
    assert short["versions"]["1.0.0"]["hasInstallScript"] is True
    assert "scripts" not in short["versions"]["1.0.0"]
    assert full["versions"]["1.0.0"]["scripts"] == {"install": "node-gyp rebuild"}
    assert short["versions"]["1.0.0"]["dist"]["shasum"] == hashlib.sha1(
        fake.raw[fake.tarball_path("demo", "1.0.0")][0]).hexdigest()
    with pytest.raises(NotFoundError):
        read(lambda http: NpmUpstream(fake.npm_url, http).facts("demo", "9.9.9"))
    with pytest.raises(NotFoundError):
        read(lambda http: NpmUpstream(fake.npm_url, http).facts("nothere", "1.0.0"))


def test_maven_facts_from_the_pom(fake: FakeUpstream) -> None:
    fake.add_maven(
        "org.example:demo-lib", "2.1.0", licenses=("Apache License, Version 2.0",),
        scm_url="https://git.example.internal/demo-lib", url="https://demo.example.internal",
        dependencies=(("org.slf4j:slf4j-api", "2.0.9", "compile"), ("junit:junit", "4.13.2", "test")),
        last_modified=datetime(2023, 3, 4, 5, 6, 7, tzinfo=UTC),
    )
    facts = read(lambda http: MavenUpstream(fake.maven_url, http).facts("org.example:demo-lib", "2.1.0"))
    assert facts.license_raw == "Apache License, Version 2.0"
    assert facts.repository == "https://git.example.internal/demo-lib"
    assert facts.homepage == "https://demo.example.internal"
    assert facts.released_at == datetime(2023, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert [(d.name, d.requirement, d.scope) for d in facts.dependencies] == [
        ("org.slf4j:slf4j-api", "2.0.9", "runtime"), ("junit:junit", "4.13.2", "test"),
    ]
    assert [f.kind for f in facts.files] == ["pom", "jar"]
    with pytest.raises(NotFoundError):
        read(lambda http: MavenUpstream(fake.maven_url, http).facts("org.example:demo-lib", "9.0"))
    with pytest.raises(NotFoundError):
        read(lambda http: MavenUpstream(fake.maven_url, http).facts("org.example:nothere", "1.0"))


def test_maven_entity_bomb_is_refused_quickly(fake: FakeUpstream) -> None:
    fake.add_entity_bomb_pom("org.evil:bomb", "1.0")
    started = time.monotonic()
    with pytest.raises(UnavailableError, match="DTD or entities"):
        read(lambda http: MavenUpstream(fake.maven_url, http).facts("org.evil:bomb", "1.0"))
    assert time.monotonic() - started < 5


def test_second_read_revalidates_and_gets_304(fake: FakeUpstream) -> None:
    fake.add_npm("demo", "1.0.0")
    cache = ResponseCache()
    first = read(lambda http: http.get(fake.npm_url + "demo", accept="application/json"), cache)
    second = read(lambda http: http.get(fake.npm_url + "demo", accept="application/json"), cache)
    assert not first.revalidated and second.revalidated
    assert second.body == first.body
    assert fake.not_modified["/npm/demo"] == 1
    # A changed document is downloaded again, not served stale.
    fake.add_npm("demo", "1.1.0")
    third = read(lambda http: http.get(fake.npm_url + "demo", accept="application/json"), cache)
    assert not third.revalidated and b"1.1.0" in third.body


def test_one_connection_serves_a_client_answers_304_and_404_included(fake: FakeUpstream) -> None:
    # A mirror sees one kept-alive connection, not one per request: an unread
    # 304 or 404 body would make the client drop its connection each time.
    fake.add_npm("demo", "1.0.0")

    async def many(http: UpstreamHttp) -> list[bool]:
        revalidated = []
        for _ in range(5):
            revalidated.append((await http.get(fake.npm_url + "demo")).revalidated)
            with pytest.raises(NotFoundError):
                await http.get(fake.npm_url + "nothere")
        return revalidated

    assert read(many) == [False, True, True, True, True]
    assert fake.requests["/npm/demo"] == 5 and fake.requests["/npm/nothere"] == 5
    assert fake.connections == 1


def test_disk_cache_is_shared_between_clients(fake: FakeUpstream, tmp_path: Path) -> None:
    fake.add_npm("demo", "1.0.0")
    read(lambda http: http.get(fake.npm_url + "demo"), ResponseCache(directory=tmp_path))
    again = read(lambda http: http.get(fake.npm_url + "demo"), ResponseCache(directory=tmp_path))
    assert again.revalidated and fake.not_modified["/npm/demo"] == 1


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("down", "attempts"),
        ("slow", "timed out"),
        ("huge", "larger than"),
        ("redirect", "redirected to another host"),
        ("html", "where a JSON packument was asked"),
        ("status", "answered 503"),
    ],
)
def test_misbehaving_upstream_is_unavailable_with_a_reason_in_bounded_time(
    fake: FakeUpstream, mode: str, reason: str
) -> None:
    fake.add_npm("demo", "1.0.0")
    fake.misbehave(mode, "/npm/demo")
    started = time.monotonic()
    with pytest.raises(UnavailableError, match=reason):
        read(lambda http: NpmUpstream(fake.npm_url, http).facts("demo", "1.0.0"))
    # Two attempts of at most a 1 s deadline each, plus backoff.
    assert time.monotonic() - started < 4


def test_retries_are_bounded(fake: FakeUpstream) -> None:
    fake.add_npm("demo", "1.0.0")
    fake.misbehave("status", "/npm/demo", 502)
    with pytest.raises(UnavailableError, match="502"):
        read(lambda http: NpmUpstream(fake.npm_url, http).facts("demo", "1.0.0"))
    assert fake.count("/npm/demo") == FAST.retries + 1


def test_huge_packument_is_refused(fake: FakeUpstream) -> None:
    fake.add_huge_packument("many", 100_000)
    with pytest.raises(UnavailableError, match="100000 versions"):
        read(lambda http: NpmUpstream(fake.npm_url, http).facts("many", "0.0.1"),
             limits=HttpLimits(timeout=5, deadline=20, retries=0, max_bytes=32 * 1024 * 1024))


def test_nothing_listening_is_unavailable() -> None:
    with pytest.raises(UnavailableError, match="connection"):
        read(lambda http: NpmUpstream(free_port_url(), http).facts("demo", "1.0.0"))


def test_stream_downloads_a_file_within_the_limit(fake: FakeUpstream) -> None:
    (wheel, _) = fake.add_pypi("demo", "1.0")

    async def download(http, limit):
        parts = []
        async with http.stream(fake.pypi_file_url("demo", wheel.filename), max_bytes=limit) as (_headers, body):
            async for chunk in body:
                parts.append(chunk)
        return b"".join(parts)

    assert read(lambda http: download(http, None)) == wheel.data
    with pytest.raises(UnavailableError, match="larger than 100 bytes"):
        read(lambda http: download(http, 100))
