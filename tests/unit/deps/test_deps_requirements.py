from __future__ import annotations

from pathlib import Path

import pytest

from foss_registry.deps import Dependency, DependencyFileError, parse_file


def pin(name: str, version: str, source: Path, note: str | None = None) -> Dependency:
    return Dependency(name, version, "pypi", str(source), True, note)


def loose(name: str, source: Path, note: str) -> Dependency:
    return Dependency(name, None, "pypi", str(source), False, note)


def test_requirements_with_includes_hashes_markers_and_extras(deps_fixtures: Path) -> None:
    folder = deps_fixtures / "requirements"
    main, base, logging = folder / "requirements.txt", folder / "base.txt", folder / "common"
    skipped: list[str] = []

    deps = parse_file(main, skipped=skipped)

    assert deps == [
        # -r base.txt comes first, and base.txt's own --requirement is read where it stands.
        pin("certifi", "2024.2.2", base),
        pin("charset-normalizer", "3.3.2", base),
        pin("idna", "3.6", base),
        pin("Werkzeug", "3.0.1", base),
        pin("structlog", "24.1.0", logging / "logging.txt"),
        pin("python-json-logger", "2.0.7", logging / "logging.txt"),
        pin("Flask", "3.0.2", main),
        pin("zope_interface", "6.2", main, 'environment marker: python_version >= "3.8"'),
        pin("requests", "2.31.0", main, "extras: security, socks"),
        pin("importlib-metadata", "7.0.1", main, 'environment marker: python_version < "3.10"'),
        pin("typing_extensions", "4.9.0", main),
        pin("Jinja2", "3.1.3", main),
        loose("flask-cors", main, "not pinned (>=4.0)"),
        loose("gunicorn", main, "not pinned (no version given)"),
        loose(
            "acme-auth",
            main,
            "editable install (git+https://git.example.test/acme/acme-auth.git@v1.4.0"
            "#egg=acme-auth), not a registry release",
        ),
        loose(
            "legacy-sdk",
            main,
            "direct URL or path (./vendor/legacy_sdk-0.9.1-py3-none-any.whl), "
            "not a registry release",
        ),
        loose(
            "PyYAML",
            main,
            "direct URL (https://downloads.example.test/wheels/PyYAML-6.0.1.tar.gz), "
            "not a registry release",
        ),
        # The trailing "flask==3.0.2" is the same release as "Flask==3.0.2" (PEP 503).
    ]
    assert skipped == [f"{main} line 30: editable install . names no project; skipped"]


def test_constraints_files_are_not_dependencies(deps_fixtures: Path) -> None:
    deps = parse_file(deps_fixtures / "requirements" / "requirements.txt")
    names = {d.name for d in deps}
    assert "six" not in names
    assert "urllib3" not in names


def test_pip_tools_in_file(deps_fixtures: Path) -> None:
    path = deps_fixtures / "requirements" / "dev.in"
    assert parse_file(path) == [
        loose("pytest", path, "not pinned (>=8.0)"),
        loose("coverage", path, "not pinned (~=7.4); extras: toml"),
        loose("pytest-xdist", path, "not pinned (no version given)"),
    ]


def test_include_cycle_is_an_error(deps_fixtures: Path) -> None:
    path = deps_fixtures / "bad" / "cycle-a-requirements.txt"
    with pytest.raises(DependencyFileError) as caught:
        parse_file(path)
    assert caught.value.code == "invalid_dependency_file"
    assert caught.value.detail == (
        f"{deps_fixtures / 'bad' / 'cycle-b-requirements.txt'} line 2: include cycle: "
        "cycle-a-requirements.txt -> cycle-b-requirements.txt -> cycle-a-requirements.txt"
    )


def test_missing_include_is_an_error(deps_fixtures: Path) -> None:
    path = deps_fixtures / "bad" / "missing-include-requirements.txt"
    with pytest.raises(DependencyFileError) as caught:
        parse_file(path)
    assert caught.value.detail == (
        f"{path} line 2: included file requirements-gone.txt not found"
    )


def test_self_include_is_a_cycle(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("-r requirements.txt\n")
    with pytest.raises(DependencyFileError, match="include cycle"):
        parse_file(path)


def test_diamond_includes_are_not_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "requirements-common.txt").write_text("attrs==23.2.0\n")
    (tmp_path / "requirements-a.txt").write_text("-r requirements-common.txt\nsix==1.16.0\n")
    (tmp_path / "requirements-b.txt").write_text("-r requirements-common.txt\n")
    top = tmp_path / "requirements.txt"
    top.write_text("-r requirements-a.txt\n-r requirements-b.txt\n")
    assert [(d.name, d.version) for d in parse_file(top)] == [
        ("attrs", "23.2.0"),
        ("six", "1.16.0"),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Django==5.0.3", ("Django", "5.0.3", True, None)),
        ("django === 5.0.3", ("django", "5.0.3", True, None)),
        ("django==5.0.*", ("django", None, False, "not pinned (==5.0.*)")),
        ("django>=4.2,<5", ("django", None, False, "not pinned (<5,>=4.2)")),
        ("django~=4.2.0", ("django", None, False, "not pinned (~=4.2.0)")),
        ("django==5.0.3 --hash=sha256:abc --hash sha256:def", ("django", "5.0.3", True, None)),
        ("-rrequirements-x.txt", None),
        ("--requirement=requirements-x.txt", None),
        ("-c constraints.txt", None),
        ("--constraint=constraints.txt", None),
        ("-i https://pypi.example.test/simple", None),
        ("--find-links ./wheels", None),
        ("--require-hashes", None),
        ("--no-binary :all:", None),
        ("--pre", None),
        ("# only a comment", None),
        (
            "-e git+https://git.example.test/x/y.git#egg=y-lib&subdirectory=src",
            ("y-lib", None, False, None),
        ),
        ("--editable=./plugins/z", None),
        (
            "https://downloads.example.test/foo-1.2.0-py3-none-any.whl",
            ("foo", None, False, None),
        ),
        (
            'pkg[a,b] @ https://downloads.example.test/pkg-1.0.tar.gz ; os_name == "nt"',
            ("pkg", None, False, None),
        ),
    ],
)
def test_single_lines(tmp_path: Path, line: str, expected: tuple[object, ...] | None) -> None:
    (tmp_path / "requirements-x.txt").write_text("attrs==23.2.0\n")
    path = tmp_path / "requirements.txt"
    path.write_text(line + "\n")
    deps = parse_file(path)
    if expected is None:
        assert all(d.name == "attrs" for d in deps)
        return
    assert len(deps) == 1
    dep = deps[0]
    name, version, is_pinned, note = expected
    assert (dep.name, dep.version, dep.pinned) == (name, version, is_pinned)
    if note is not None:
        assert dep.note == note
    else:
        assert dep.pinned or dep.note


def test_continuation_lines_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(
        "cryptography==42.0.5 \\\n"
        "    --hash=sha256:0270572b8bd2c833c3981724b8ee9747b3ec96f699a9665470018594301439ee \\\n"
        "    --hash=sha256:111a0d8553afcf8eb02a4fea6ca4f59d48ddb34497aa8706a6cf536f1a5ec5a7\n"
        "    # via\n"
        "    #   paramiko\n"
        "cffi\\\n"
        "==1.16.0  # pip joins continued lines without adding a space\n"
        "url-thing @ https://example.test/x.tar.gz#sha256=abc\n"
    )
    deps = parse_file(path)
    assert [(d.name, d.version) for d in deps] == [
        ("cryptography", "42.0.5"),
        ("cffi", "1.16.0"),
        ("url-thing", None),
    ]


def test_invalid_requirement_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("flask==3.0\nthis is not a requirement\n")
    with pytest.raises(DependencyFileError) as caught:
        parse_file(path)
    assert caught.value.detail.startswith(
        f"{path} line 2: invalid requirement 'this is not a requirement': "
    )
    assert "\n" not in caught.value.detail


def test_included_url_is_not_fetched(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("-r https://example.test/requirements.txt\nsix==1.16.0\n")
    skipped: list[str] = []
    assert [d.name for d in parse_file(path, skipped=skipped)] == ["six"]
    assert skipped == [
        f"{path} line 1: included URL https://example.test/requirements.txt not read"
    ]
