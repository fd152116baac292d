from __future__ import annotations

from pathlib import Path

import pytest

from foss_registry.deps import Dependency, DependencyFileError, parse_file


def pin(name: str, version: str, source: Path, note: str | None = None) -> Dependency:
    return Dependency(name, version, "pypi", str(source), True, note)


def loose(name: str, source: Path, note: str) -> Dependency:
    return Dependency(name, None, "pypi", str(source), False, note)


def test_poetry_lock(deps_fixtures: Path) -> None:
    path = deps_fixtures / "poetry" / "poetry.lock"
    assert parse_file(path) == [
        loose(
            "acme-billing",
            path,
            "git source https://git.example.test/acme/acme-billing.git (version 2.3.0), "
            "not a registry release",
        ),
        pin("anyio", "4.3.0", path),
        pin("certifi", "2024.2.2", path),
        pin("httpx", "0.27.0", path),
        pin("idna", "3.6", path),
        # A private index ("legacy" source) serves registry releases.
        pin("internal-utils", "0.4.1", path),
        loose(
            "local-plugin",
            path,
            "directory source plugins/local-plugin (version 0.1.0), not a registry release",
        ),
        pin("pytest", "8.1.1", path),
        pin("sniffio", "1.3.1", path),
        pin("zope-interface", "6.2", path),
    ]


def test_poetry_lock_old_dev_category(tmp_path: Path) -> None:
    path = tmp_path / "poetry.lock"
    path.write_text(
        '[[package]]\nname = "black"\nversion = "24.2.0"\ncategory = "dev"\n'
        'optional = false\npython-versions = ">=3.8"\n\n'
        '[metadata]\nlock-version = "1.1"\n'
    )
    assert parse_file(path) == [pin("black", "24.2.0", path, "development")]


def test_uv_lock_skips_the_project_and_workspace_members(deps_fixtures: Path) -> None:
    path = deps_fixtures / "uv" / "uv.lock"
    assert parse_file(path) == [
        loose(
            "acme-tracing",
            path,
            "git source https://git.example.test/acme/acme-tracing.git?rev=v1.2.0"
            "#0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c (version 1.2.0), not a registry release",
        ),
        pin("blinker", "1.7.0", path),
        pin("click", "8.1.7", path),
        pin("colorama", "0.4.6", path),
        pin("flask", "3.0.2", path),
        loose(
            "shared-models",
            path,
            "path source ../shared-models (version 0.3.0), not a registry release",
        ),
        pin("werkzeug", "3.0.1", path),
    ]


def test_pipfile_lock_default_and_develop(deps_fixtures: Path) -> None:
    path = deps_fixtures / "pipenv" / "Pipfile.lock"
    assert parse_file(path) == [
        pin("django", "5.0.3", path, "environment marker: python_version >= '3.10'"),
        pin("asgiref", "3.7.2", path, "environment marker: python_version >= '3.8'"),
        pin("psycopg", "3.1.18", path, "extras: binary"),
        pin("sqlparse", "0.4.4", path),
        pin("zope.interface", "6.2", path),
        loose(
            "acme-sso",
            path,
            "git source https://git.example.test/acme/acme-sso.git, not a registry release",
        ),
        loose("webshop", path, "editable path source ., not a registry release"),
        loose("celery", path, "not pinned (*)"),
        pin("pytest", "8.1.1", path, "development; environment marker: python_version >= '3.8'"),
        # "Django" in develop is the same release as "django" in default.
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "poetry.lock",
            '[[package]]\nname = "anyio"\nversion = "4.3',
            "invalid TOML (truncated file?)",
        ),
        ("uv.lock", "version = 1\n[[package]]\nversion = \"1.0\"\n", "a [[package]] has no name"),
        ("uv.lock", "package = 3\n", "[[package]] must be an array of tables"),
        ("Pipfile.lock", '{"default": {"django": {"version": "==5.0', "(truncated file?)"),
        ("Pipfile.lock", '{"default": []}', '"default" must be a JSON object'),
        ("Pipfile.lock", "", "is empty"),
    ],
)
def test_broken_python_lockfiles(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DependencyFileError) as caught:
        parse_file(path)
    assert caught.value.detail.startswith(f"{path}: ")
    assert message in caught.value.detail
    assert "\n" not in caught.value.detail
