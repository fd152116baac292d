from __future__ import annotations

import json
from pathlib import Path

import pytest

from foss_registry.deps import Dependency, DependencyFileError, parse_file


def pin(name: str, version: str, source: Path, note: str | None = None) -> Dependency:
    return Dependency(name, version, "npm", str(source), True, note)


def loose(name: str, source: Path, note: str) -> Dependency:
    return Dependency(name, None, "npm", str(source), False, note)


def test_package_lock_v3(deps_fixtures: Path) -> None:
    path = deps_fixtures / "npm-v3" / "package-lock.json"
    assert parse_file(path) == [
        pin("@babel/runtime", "7.24.0", path),
        pin("@types/node", "20.11.25", path, "development"),
        loose(
            "acme-feature-flags",
            path,
            "resolved from git+ssh://git@git.example.test/acme/feature-flags.git"
            "#3f2a9c1d7e5b4a6c8d0e2f4a6b8c0d2e4f6a8b0c (version 0.3.1), not a registry release",
        ),
        pin("debug", "4.3.4", path),
        pin("express", "4.18.3", path),
        # Nested copies: the name is the part after the last node_modules/.
        pin("debug", "2.6.9", path),
        pin("ms", "2.0.0", path),
        pin("ms", "2.1.2", path),
        pin("regenerator-runtime", "0.14.1", path),
        # An alias: installed as string-width-cjs, the package is string-width.
        pin("string-width", "4.2.3", path),
        pin("undici-types", "5.26.5", path, "development"),
        # A dependency of a workspace member; the member itself and links are left out.
        pin("@emotion/react", "11.11.4", path),
    ]


def test_npm_shrinkwrap_v1_tree(deps_fixtures: Path) -> None:
    path = deps_fixtures / "npm-v1" / "npm-shrinkwrap.json"
    assert parse_file(path) == [
        pin("@sindresorhus/is", "0.14.0", path),
        pin("accepts", "1.3.8", path),
        pin("body-parser", "1.19.0", path),
        pin("bytes", "3.1.0", path),
        pin("qs", "6.7.0", path),
        pin("bytes", "3.1.2", path),
        pin("eslint", "8.57.0", path, "development"),
        pin("lodash", "4.17.21", path),
        loose(
            "report-engine",
            path,
            "git+https://git.example.test/acme/report-engine.git"
            "#1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b is not a registry release",
        ),
    ]


def _generated_lock(count: int) -> dict[str, object]:
    packages: dict[str, object] = {"": {"name": "big-app", "version": "1.0.0"}}
    for i in range(count):
        key = f"node_modules/@scope{i % 7}/pkg-{i}" if i % 3 == 0 else f"node_modules/pkg-{i}"
        packages[key] = {
            "version": f"1.{i % 10}.{i}",
            "resolved": f"https://registry.example.test/pkg-{i}/-/pkg-{i}-1.{i % 10}.{i}.tgz",
            "integrity": "sha512-" + "A" * 86 + "==",
        }
    return {"name": "big-app", "lockfileVersion": 3, "requires": True, "packages": packages}


def test_generated_package_lock_with_10000_entries(tmp_path: Path) -> None:
    path = tmp_path / "package-lock.json"
    path.write_text(json.dumps(_generated_lock(10_000)))
    deps = parse_file(path)
    assert len(deps) == 10_000
    assert deps[0] == pin("@scope0/pkg-0", "1.0.0", path)
    assert deps[1] == pin("pkg-1", "1.1.1", path)
    assert deps[9_999] == pin("@scope3/pkg-9999", "1.9.9999", path)
    assert all(d.pinned and d.ecosystem == "npm" for d in deps)


def test_lockfile_of_100000_entries_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "package-lock.json"
    path.write_text(json.dumps(_generated_lock(100_000)))
    with pytest.raises(DependencyFileError) as caught:
        parse_file(path)
    assert caught.value.detail == (
        f"{path}: more than 50,000 dependencies (the limit is 50,000)"
    )


def test_npm_lockfiles_carry_what_they_know_for_submissions(deps_fixtures: Path) -> None:
    lock = {d.name: d for d in parse_file(deps_fixtures / "npm-v3" / "package-lock.json")}
    express = lock["express"]
    assert express.resolved == "https://registry.example.test/express/-/express-4.18.3.tgz"
    assert express.integrity is not None and express.integrity.startswith("sha512-6VyCij")
    yarn = [d for d in parse_file(deps_fixtures / "yarn-v1" / "yarn.lock") if d.name == "debug"]
    first = yarn[0]
    # The tarball's SHA-1 after '#' is left out of the URL; the line is the block's header.
    assert first.resolved == "http://registry.example.test/debug/-/debug-4.4.3.tgz"
    assert first.integrity is not None and first.integrity.startswith("sha512-RGwwWn")
    assert first.line == 62


def test_package_lock_license_is_read(tmp_path: Path) -> None:
    path = tmp_path / "package-lock.json"
    path.write_text(
        json.dumps(
            {
                "lockfileVersion": 3,
                "packages": {
                    "": {"name": "app", "license": "UNLICENSED"},
                    "node_modules/ms": {"version": "2.1.3", "license": "MIT"},
                },
            }
        )
    )
    (ms,) = parse_file(path)
    assert (ms.name, ms.license) == ("ms", "MIT")
