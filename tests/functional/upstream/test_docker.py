"""Docker images through the OCI distribution API of a fake registry on loopback.

The fake answers as a registry does: manifests by tag or digest with
``Docker-Content-Digest``, OCI image indexes with an attestation entry, config
blobs, errors as ``{"errors": [...]}`` and, when asked, the token handshake.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from foss_registry.upstream import (
    DockerUpstream,
    HttpLimits,
    NotConfiguredError,
    NotFoundError,
    UnavailableError,
    UpstreamHttp,
    run_sync,
)
from tests.fakes.upstream import FakeUpstream

FAST = HttpLimits(timeout=0.5, deadline=1.0, retries=1, backoff=0.01, max_bytes=1024 * 1024)
BUILT = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)
LABELS = {
    "org.opencontainers.image.licenses": "Apache-2.0",
    "org.opencontainers.image.source": "https://git.example.internal/team/app",
    "org.opencontainers.image.url": "https://app.example.internal",
}


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


def facts(base_url: str, *wanted: tuple[str, str]):
    """The facts of each (name, tag or digest), asked through one reader (as one run asks)."""
    async def go():
        async with UpstreamHttp(FAST) as http:
            reader = DockerUpstream(base_url, http)
            return [await reader.facts(name, version) for name, version in wanted]

    return run_sync(go())


def manifest_paths(fake: FakeUpstream, name: str) -> list[str]:
    return [path for path, _ in fake.log if path.startswith(f"/docker/v2/{name}/manifests/")]


def test_multi_platform_tag_reads_the_amd64_image_and_its_config(fake: FakeUpstream) -> None:
    top = fake.add_docker("team/app", "1.4.2", created=BUILT, labels=LABELS)
    [app] = facts(fake.docker_url, ("team/app", "1.4.2"))
    assert app.released_at == BUILT
    assert app.license_raw == "Apache-2.0"
    assert app.repository == "https://git.example.internal/team/app"
    assert app.homepage == "https://app.example.internal"
    assert app.source == fake.docker_url + "v2/team/app/manifests/1.4.2"
    # The digest a pull of the tag gets: what a reviewer pins.
    [file] = app.files
    assert (file.kind, file.filename, file.sha256) == ("manifest", f"team/app@{top}", top.split(":")[1])
    # The index, then the linux/amd64 image (never arm64 or the attestation), then its config.
    index = fake.docker_blobs[top][0]
    amd64 = next(m["digest"] for m in json.loads(index)["manifests"]
                 if m["platform"] == {"architecture": "amd64", "os": "linux"})
    assert manifest_paths(fake, "team/app") == [
        "/docker/v2/team/app/manifests/1.4.2", f"/docker/v2/team/app/manifests/{amd64}",
    ]
    assert sum(p.startswith("/docker/v2/team/app/blobs/") for p, _ in fake.log) == 1


def test_docker_schema2_manifest_and_reading_by_digest(fake: FakeUpstream) -> None:
    digest = fake.add_docker("library/redis", "7.2.4", created=BUILT, docker_format=True,
                             labels={"org.opencontainers.image.licenses": "BSD-3-Clause"})
    # A bare name is the default registry's library/ repository, as a pull reads it.
    by_tag, by_digest = facts(fake.docker_url, ("redis", "7.2.4"), ("library/redis", digest))
    assert by_tag.license_raw == by_digest.license_raw == "BSD-3-Clause"
    assert by_tag.released_at == by_digest.released_at == BUILT
    assert by_tag.files[0].sha256 == by_digest.files[0].sha256 == digest.split(":")[1]


def test_annotations_win_over_labels_inherited_from_the_base_image(fake: FakeUpstream) -> None:
    fake.add_docker("team/app", "2.0", labels={"org.opencontainers.image.licenses": "GPL-2.0-only"},
                    index_annotations={
                        "org.opencontainers.image.licenses": "MIT",
                        "org.opencontainers.image.base.name": "library/alpine:3.19",
                        "org.opencontainers.image.base.digest": "sha256:" + "ab" * 32,
                    })
    [app] = facts(fake.docker_url, ("team/app", "2.0"))
    assert app.license_raw == "MIT"
    assert [(d.name, d.requirement) for d in app.dependencies] == [("library/alpine:3.19", "sha256:" + "ab" * 32)]


def test_unknown_tag_and_repository_are_not_found(fake: FakeUpstream) -> None:
    fake.add_docker("team/app", "1.0")
    with pytest.raises(NotFoundError):
        facts(fake.docker_url, ("team/app", "9.9"))
    with pytest.raises(NotFoundError):
        facts(fake.docker_url, ("team/nothere", "1.0"))
    with pytest.raises(NotFoundError):
        facts(fake.docker_url, ("team/app", "sha256:" + "0" * 64))


def test_token_handshake_once_per_repository(fake: FakeUpstream) -> None:
    fake.docker_token_auth = True
    fake.add_docker("team/app", "1.0", created=BUILT)
    fake.add_docker("team/app", "1.1", created=BUILT)
    one, two = facts(fake.docker_url, ("team/app", "1.0"), ("team/app", "1.1"))
    assert one.released_at == two.released_at == BUILT
    assert fake.tokens_issued == 1
    token_requests = [h for p, h in fake.log if p == "/docker-auth/token"]
    assert len(token_requests) == 1 and "authorization" not in token_requests[0]
    granted = f"Bearer {fake.docker_token('team/app')}"
    assert all(h.get("authorization") == granted for p, h in fake.log
               if p.startswith("/docker/v2/team/app/") and "authorization" in h)


def test_credentials_go_only_to_a_token_service_on_the_registry_host(fake: FakeUpstream) -> None:
    fake.docker_token_auth = True
    fake.add_docker("team/app", "1.0")
    basic = "Basic " + base64.b64encode(b"robot:s3cret pass").decode()
    # The registry named by 127.0.0.1, as the realm is: the token request carries them.
    facts(fake.docker_url.replace("http://", "http://robot:s3cret%20pass@"), ("team/app", "1.0"))
    [token_request] = [h for p, h in fake.log if p == "/docker-auth/token"]
    assert token_request["authorization"] == basic
    # The same registry named localhost: the realm is on another host, so it gets none.
    fake.log.clear()
    other = fake.docker_url.replace("http://127.0.0.1", "http://robot:s3cret%20pass@localhost")
    [app] = facts(other, ("team/app", "1.0"))
    [token_request] = [h for p, h in fake.log if p == "/docker-auth/token"]
    assert "authorization" not in token_request
    assert app.files[0].kind == "manifest"


def test_refused_token_and_basic_challenge_are_unavailable_with_a_reason(fake: FakeUpstream) -> None:
    fake.docker_token_auth = True
    fake.add_docker("team/app", "1.0")
    fake.docker_accept_tokens = False
    with pytest.raises(UnavailableError, match="refused the pull token") as refused:
        facts(fake.docker_url, ("team/app", "1.0"))
    assert fake.docker_token("team/app") not in str(refused.value)
    fake.misbehave("status", "/docker/v2/", 401)  # a 401 without a Bearer challenge
    with pytest.raises(UnavailableError, match="wants credentials"):
        facts(fake.docker_url, ("team/app", "1.0"))


def test_image_of_another_registry_is_not_configured(fake: FakeUpstream) -> None:
    with pytest.raises(NotConfiguredError, match=r"registry\.example\.internal"):
        facts(fake.docker_url, ("registry.example.internal/team/app", "1.0"))
    # Named with the configured registry's own host, it is read there.
    fake.add_docker("team/app", "1.0", created=BUILT)
    host = fake.docker_url.split("/")[2]
    [app] = facts(fake.docker_url, (f"{host}/team/app", "1.0"))
    assert app.released_at == BUILT


def test_bytes_that_do_not_match_the_digest_are_refused(fake: FakeUpstream) -> None:
    digest = fake.add_docker("team/app", "1.0", docker_format=True)
    fake.misbehave("tamper", f"/docker/v2/team/app/manifests/{digest}")
    with pytest.raises(UnavailableError, match="do not match the digest"):
        facts(fake.docker_url, ("team/app", digest))
    assert hashlib.sha256(fake.docker_blobs[digest][0]).hexdigest() == digest.split(":")[1]


@pytest.mark.parametrize(("mode", "reason"), [
    ("down", "attempts"), ("slow", "timed out"), ("huge", "larger than"),
    ("redirect", "redirected to another host"), ("status", "answered 503"),
])
def test_misbehaving_registry_is_unavailable_with_a_reason(fake: FakeUpstream, mode: str, reason: str) -> None:
    fake.add_docker("team/app", "1.0")
    fake.misbehave(mode, "/docker/v2/team/app/manifests/")
    with pytest.raises(UnavailableError, match=reason):
        facts(fake.docker_url, ("team/app", "1.0"))


def test_config_blob_redirected_to_another_host_leaves_the_build_time_unknown(fake: FakeUpstream) -> None:
    # Registries often hand blobs to a storage host; that redirect is never followed.
    fake.add_docker("team/app", "1.0", labels=LABELS, docker_format=True)
    fake.misbehave("redirect", "/docker/v2/team/app/blobs/")
    [app] = facts(fake.docker_url, ("team/app", "1.0"))
    assert app.released_at is None and app.license_raw is None
    assert app.files[0].kind == "manifest"
