from __future__ import annotations

import json
from pathlib import Path

from foss_registry.deps import Dependency, parse_file


def pin(name: str, version: str, ecosystem: str, source: Path) -> Dependency:
    return Dependency(name, version, ecosystem, str(source), True, None)


def test_cyclonedx_components_and_nested_components(deps_fixtures: Path) -> None:
    path = deps_fixtures / "sbom" / "storefront.cdx.json"
    skipped: list[str] = []
    assert parse_file(path, skipped=skipped) == [
        # metadata.component (the image under check) is not a dependency of itself.
        pin("library/python", "3.12.2-slim", "docker", path),
        pin("flask", "3.0.2", "pypi", path),
        pin("zope-interface", "6.2", "pypi", path),
        pin("@babel/runtime", "7.24.0", "npm", path),
        pin("org.apache.logging.log4j:log4j-core", "2.17.1", "maven", path),
        pin("org.apache.logging.log4j:log4j-api", "2.17.1", "maven", path),
        # The purl has no version; the component's own version serves.
        pin("internal-metrics", "1.4.0", "pypi", path),
    ]
    assert skipped == [
        f"{path}: skipped 1 components without a purl",
        f"{path}: skipped 2 components of purl type deb (not a supported ecosystem)",
    ]


def test_spdx_packages_with_purls(deps_fixtures: Path) -> None:
    path = deps_fixtures / "sbom" / "orders-service.spdx.json"
    skipped: list[str] = []
    assert parse_file(path, skipped=skipped) == [
        # orders-service is what the document DESCRIBES: the subject, not a dependency.
        pin("com.fasterxml.jackson.core:jackson-databind", "2.16.1", "maven", path),
        pin("requests", "2.31.0", "pypi", path),
        pin("@angular/core", "17.2.4", "npm", path),
        pin("alpine", "3.19", "docker", path),
    ]
    assert skipped == [
        f"{path}: skipped 1 packages without a purl",
        f"{path}: skipped 1 packages of purl type apk (not a supported ecosystem)",
    ]


def test_spdx_describing_every_package_lists_them_all(tmp_path: Path) -> None:
    path = tmp_path / "sbom.spdx.json"
    path.write_text(
        json.dumps(
            {
                "spdxVersion": "SPDX-2.3",
                "SPDXID": "SPDXRef-DOCUMENT",
                "documentDescribes": ["SPDXRef-a"],
                "packages": [
                    {
                        "SPDXID": "SPDXRef-a",
                        "name": "left-pad",
                        "externalRefs": [
                            {
                                "referenceCategory": "PACKAGE-MANAGER",
                                "referenceType": "purl",
                                "referenceLocator": "pkg:npm/left-pad",
                            }
                        ],
                    }
                ],
            }
        )
    )
    assert parse_file(path) == [
        Dependency("left-pad", None, "npm", str(path), False, "no version in the SBOM")
    ]


def test_bad_purls_are_skipped_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.4",
                "components": [
                    {"type": "library", "name": "x", "purl": "not-a-purl"},
                    {"type": "library", "name": "y", "purl": "pkg:maven/only-artifact@1.0"},
                    {"type": "library", "name": "z", "purl": "pkg:golang/github.com/x/y@v1"},
                ],
            }
        )
    )
    skipped: list[str] = []
    assert parse_file(path, skipped=skipped) == []
    assert len(skipped) == 3
    assert skipped[0].startswith(f"{path}: invalid purl 'not-a-purl' skipped: ")
    assert skipped[1] == f"{path}: Maven purl pkg:maven/only-artifact@1.0 has no groupId; skipped"
    assert skipped[2] == (
        f"{path}: skipped 1 components of purl type golang (not a supported ecosystem)"
    )


def test_docker_purls_keep_their_registry(tmp_path: Path) -> None:
    path = tmp_path / "compose.cdx.json"
    purls = [
        "pkg:docker/acme/log-shipper@2.4.1?repository_url=registry.example.test",
        "pkg:docker/nginx@1.25.4?repository_url=docker.io",
        "pkg:docker/redis@sha256%3A3b1c2d?repository_url=mirror.example.test/redis",
    ]
    path.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.5",
                "components": [{"type": "container", "purl": p} for p in purls],
            }
        )
    )
    assert parse_file(path) == [
        pin("registry.example.test/acme/log-shipper", "2.4.1", "docker", path),
        pin("nginx", "1.25.4", "docker", path),
        pin("mirror.example.test/redis", "sha256:3b1c2d", "docker", path),
    ]
