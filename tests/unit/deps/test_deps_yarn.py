"""yarn.lock read as Yarn reads it: real lockfiles of Yarn 1, 3 and 4, quoting, errors.

The fixtures under ``tests/fixtures/deps/yarn-*`` were written by the real Yarn
(their README says which version); each test below states what the lockfile pins.
The table of Yarn 1 spellings was checked against Yarn 1.22.22's own parser when
it was written; the properties write lockfiles with Yarn's own quoting rules.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foss_registry.deps import Dependency, DependencyFileError, detect_format, parse_file

# --- the real lockfiles ---------------------------------------------------------------

#: What the Yarn 1 fixture pins: every registry release, once, in the file's order.
CLASSIC_PINS = [
    ("@babel/code-frame", "7.29.17"),
    ("@babel/helper-validator-identifier", "7.29.17"),
    ("@sindresorhus/is", "4.6.0"),
    ("@types/ms", "0.7.34"),
    ("ansi-regex", "5.0.1"),
    ("ansi-styles", "3.2.1"),
    ("chalk", "2.4.2"),
    ("color-convert", "1.9.3"),
    ("color-name", "1.1.3"),
    ("debug", "4.4.3"),
    ("emoji-regex", "8.0.0"),
    ("escape-string-regexp", "1.0.5"),
    ("has-flag", "3.0.0"),
    ("is-fullwidth-code-point", "3.0.0"),
    ("js-tokens", "4.0.0"),
    ("local-lib", None),
    ("lodash", "4.17.21"),
    # "ms@>= 2.1.0 < 3", ms@^2.1.1, ms@^2.1.3: one entry, three specifiers.
    ("ms", "2.1.3"),
    ("picocolors", "1.1.1"),
    ("semver", "7.8.6"),
    # "string-width-cjs@npm:string-width@^4.2.0" (an alias) and string-width@^4.1.0:
    # two entries of one release.
    ("string-width", "4.2.3"),
    # "strip-ansi-cjs@npm:strip-ansi@^6.0.1" and strip-ansi@^6.0.1.
    ("strip-ansi", "6.0.1"),
    ("supports-color", "5.5.0"),
]

#: What both Berry fixtures (Yarn 3 and Yarn 4, one package.json) pin. Left out:
#: the workspaces fixture-app and helper, linked-lib (link:), portal-lib (portal:)
#: and the patch: entry of resolve (its unpatched release is listed).
BERRY_PINS = [
    ("@babel/code-frame", "7.29.17"),
    ("@babel/helper-validator-identifier", "7.29.17"),
    ("@sindresorhus/is", "4.6.0"),
    ("@types/ms", "2.1.0"),
    ("@types/ms", "0.7.34"),
    ("ansi-regex", "5.0.1"),
    ("ansi-styles", "3.2.1"),
    ("chalk", "2.4.2"),
    ("color-convert", "1.9.3"),
    ("color-name", "1.1.3"),
    ("debug", "4.4.3"),
    ("emoji-regex", "8.0.0"),
    ("es-errors", "1.3.0"),
    ("escape-string-regexp", "1.0.5"),
    ("function-bind", "1.1.2"),
    ("has-flag", "3.0.0"),
    ("hasown", "2.0.4"),
    ("is-core-module", "2.18.0"),
    ("is-fullwidth-code-point", "3.0.0"),
    ("js-tokens", "4.0.0"),
    ("local-lib", None),
    ("lodash", "4.17.21"),
    ("lodash", "4.18.1"),
    ("ms", "2.1.3"),
    ("path-parse", "1.0.7"),
    ("picocolors", "1.1.1"),
    ("resolve", "1.22.14"),
    ("semver", "7.8.6"),
    ("string-width", "4.2.3"),
    ("strip-ansi", "6.0.1"),
    ("supports-color", "5.5.0"),
    ("supports-preserve-symlinks-flag", "1.0.0"),
]


def pins(deps: list[Dependency]) -> list[tuple[str, str | None]]:
    return [(d.name, d.version) for d in deps]


def test_yarn_1_lockfile(deps_fixtures: Path) -> None:
    path = deps_fixtures / "yarn-v1" / "yarn.lock"
    skipped: list[str] = []
    deps = parse_file(path, skipped=skipped)
    assert pins(deps) == CLASSIC_PINS
    assert skipped == []
    assert all(d.ecosystem == "npm" and d.source == str(path) for d in deps)
    local = next(d for d in deps if d.name == "local-lib")
    assert not local.pinned
    assert local.note == ("resolved from file:./local-lib (version 0.2.0), not a registry release")
    for dep in deps:
        if dep.pinned:
            # The tarball Yarn fetched is the release named: the alias resolved to the
            # real package, the tarball's SHA-1 after '#' left out of the URL.
            base = dep.name.rsplit("/", 1)[-1]
            assert dep.resolved == (
                f"http://registry.example.test/{dep.name}/-/{base}-{dep.version}.tgz"
            )
            assert dep.integrity is not None and dep.integrity.startswith("sha512-")


def test_yarn_1_lines_are_the_entries_headers(deps_fixtures: Path) -> None:
    path = deps_fixtures / "yarn-v1" / "yarn.lock"
    lines = path.read_text().splitlines()
    for dep in parse_file(path):
        assert dep.line is not None
        header = lines[dep.line - 1]
        assert not header.startswith(" ") and header.endswith(":")
        assert dep.name in header or dep.name == "string-width"


@pytest.mark.parametrize("folder", ["yarn-berry", "yarn-berry-3"])
def test_yarn_berry_lockfile(deps_fixtures: Path, folder: str) -> None:
    path = deps_fixtures / folder / "yarn.lock"
    skipped: list[str] = []
    deps = parse_file(path, skipped=skipped)
    assert detect_format(path) == "yarn.lock"
    assert pins(deps) == BERRY_PINS
    local = next(d for d in deps if d.name == "local-lib")
    assert local.note == (
        "resolved from file:./local-lib#./local-lib (version 0.2.0), not a registry release"
    )
    assert skipped == [
        f"{path}: linked-lib is link:./linked-lib, not a registry package; skipped",
        f"{path}: portal-lib is portal:./portal-lib, not a registry package; skipped",
    ]
    lines = path.read_text().splitlines()
    for dep in deps:
        assert dep.line is not None
        assert f"{dep.name}@" in lines[dep.line - 1]
        if dep.pinned:
            assert lines[dep.line + 1] == f'  resolution: "{dep.name}@npm:{dep.version}"'


# --- Yarn 1 spellings, as Yarn 1.22.22's parser reads them -----------------------------

HEAD = "# yarn lockfile v1\n\n"

#: (lockfile text after the v1 comment, the (name, version) pins it gives).
CLASSIC_SPELLINGS = [
    # As Yarn 1 writes it.
    ('lodash@^4.17.21:\n  version "4.17.21"\n', [("lodash", "4.17.21")]),
    # Quoted field names, as some tools write them: the same fields.
    ('"lodash@^4.17.21":\n  "version" "4.17.21"\n  "resolved" "x"\n', [("lodash", "4.17.21")]),
    # A colon after the field name is allowed.
    ('lodash@^4.17.21:\n  version: "4.17.21"\n', [("lodash", "4.17.21")]),
    ('lodash@^4.17.21:\n  "version": "4.17.21"\n', [("lodash", "4.17.21")]),
    # Several specifiers, quoted or not, one release.
    (
        '"a@^1", a@^1.2, "a@>= 1.2.0 < 2":\n  version "1.6.2"\n',
        [("a", "1.6.2")],
    ),
    # Scoped names are quoted (they start with '@'); the name keeps its scope.
    ('"@scope/pkg@^2.0.0", "@scope/pkg@~2.1":\n  version "2.1.9"\n', [("@scope/pkg", "2.1.9")]),
    # Aliases install the package after npm:, scoped or not.
    ('"alias@npm:real@^3":\n  version "3.0.1"\n', [("real", "3.0.1")]),
    ('"@my/alias@npm:@their/real@^3":\n  version "3.0.1"\n', [("@their/real", "3.0.1")]),
    ('"same@npm:^3":\n  version "3.0.1"\n', [("same", "3.0.1")]),
    # A tag as the range.
    ('pkg@latest:\n  version "1.0.0-beta.1"\n', [("pkg", "1.0.0-beta.1")]),
    # JSON escapes in quoted strings.
    ('"we\\u0069rd@^1":\n  version "1.0.\\u0030"\n', [("weird", "1.0.0")]),
    # Windows line ends, comments and blank lines (a blank line does not end a block).
    (
        'a@^1:\r\n  # note\r\n  version "1.0.0"\r\n\r\nb@^2:\r\n  version "2.0.0"\r\n',
        [("a", "1.0.0"), ("b", "2.0.0")],
    ),
    ('a@^1:\n\n  version "1.0.0"\n', [("a", "1.0.0")]),
    ('a@^1: # the first\n  version "1.0.0" # pinned\n', [("a", "1.0.0")]),
    # Nested blocks (dependencies, optionalDependencies) are read and not listed.
    (
        'a@^1:\n  version "1.0.0"\n  dependencies:\n    b "^2"\n    "@c/d" "3"\n'
        '  optionalDependencies:\n    e "4"\nb@^2:\n  version "2.0.0"\n',
        [("a", "1.0.0"), ("b", "2.0.0")],
    ),
    # No version: unpinned (listed with the name only).
    ('a@^1:\n  resolved "x"\n', [("a", None)]),
    # Not the registry: git, GitHub shorthands, folders, tarball URLs.
    ('"a@git+https://git.example.test/a.git#v1":\n  version "1.0.0"\n', [("a", None)]),
    ('"a@user/repo#v1":\n  version "1.0.0"\n', [("a", None)]),
    ('"a@file:../a":\n  version "1.0.0"\n', [("a", None)]),
    ('"a@https://files.example.test/a-1.0.0.tgz":\n  version "1.0.0"\n', [("a", None)]),
    # An empty lockfile is a project without dependencies yet.
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), CLASSIC_SPELLINGS)
def test_yarn_1_spellings(
    tmp_path: Path, text: str, expected: list[tuple[str, str | None]]
) -> None:
    path = tmp_path / "yarn.lock"
    path.write_bytes((HEAD + text).encode())
    assert pins(parse_file(path)) == expected


# --- Yarn's own quoting rules, generated ------------------------------------------------

_NAME = st.from_regex(r"[a-z][a-z0-9._-]{0,12}", fullmatch=True).filter(
    lambda n: not n.endswith(".")
)
_SCOPED = st.builds(
    lambda s, n: f"@{s}/{n}", st.from_regex(r"[a-z0-9][a-z0-9-]{0,8}", fullmatch=True), _NAME
)
_PACKAGE = _NAME | _SCOPED
_VERSION = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}{pre}",
    st.integers(0, 30),
    st.integers(0, 30),
    st.integers(0, 300),
    st.sampled_from(["", "", "", "-beta.1", "-rc.0", "-alpha", "+build.5"]),
)
_RANGE = st.builds(
    lambda template, v: template.format(v=v, m=v.split(".")[0], n=int(v.split(".")[0]) + 1),
    st.sampled_from(
        [
            "^{v}",
            "~{v}",
            "{v}",
            ">= {v} < {n}",
            "^{m} || ^{n}",
            ">={v}",
            "*",
            "latest",
            "{m}.x",
            "^{v} || ~{v}",
            "<= {v}",
            "next",
        ]
    ),
    _VERSION,
)


@st.composite
def _lockfiles(draw: st.DrawFn) -> list[tuple[list[tuple[str, str]], str, str]]:
    """Entries: (specifiers as (installed-as name, range)), real name, version."""
    count = draw(st.integers(1, 8))
    names = draw(st.lists(_PACKAGE, min_size=count, max_size=count, unique=True))
    entries = []
    for real in names:
        version = draw(_VERSION)
        specs = []
        for rng in draw(st.lists(_RANGE, min_size=1, max_size=3, unique=True)):
            if draw(st.booleans()) and draw(st.booleans()):
                specs.append((real + "-alias", f"npm:{real}@{rng}"))
            else:
                specs.append((real, rng))
        entries.append((specs, real, version))
    return entries


def _yarn1_wrap(value: str) -> str:
    """Yarn 1's ``maybeWrap`` (``lockfile/stringify.js``)."""
    if (
        value.startswith(("true", "false"))
        or re.search(r'[:\s\\",\[\]]', value)
        or re.match(r"[0-9]", value)
        or not re.match(r"[a-zA-Z]", value)
    ):
        return json.dumps(value)
    return value


def _write_yarn1(entries: list[tuple[list[tuple[str, str]], str, str]], style: str) -> str:
    def wrap(value: str) -> str:
        return json.dumps(value) if style == "quote-all" else _yarn1_wrap(value)

    out = [HEAD]
    for specs, real, version in entries:
        keys = sorted(f"{name}@{rng}" for name, rng in specs)
        out.append(", ".join(wrap(k) for k in keys) + ":\n")
        colon = ":" if style == "colons" else ""
        out.append(f"  {wrap('version')}{colon} {json.dumps(version)}\n")
        base = real.rsplit("/", 1)[-1]
        url = f"http://registry.example.test/{real}/-/{base}-{version}.tgz#0a1b"
        out.append(f"  {wrap('resolved')}{colon} {wrap(url)}\n")
        out.append(
            f"  {wrap('integrity')}{colon} sha512-AAAA==\n".replace(
                "sha512-AAAA==", json.dumps("sha512-AAAA==")
            )
        )
        out.append('  dependencies:\n    ms "^2.1.1"\n\n')
    text = "".join(out)
    return text.replace("\n", "\r\n") if style == "crlf" else text


def _expected(entries: list[tuple[list[tuple[str, str]], str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for _specs, real, version in entries:
        if (real, version) not in out:
            out.append((real, version))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=_lockfiles(),
    style=st.sampled_from(["yarn", "quote-all", "colons", "crlf"]),
)
def test_yarn_1_files_written_with_yarns_quoting_read_back(
    tmp_path_factory: pytest.TempPathFactory,
    entries: list[tuple[list[tuple[str, str]], str, str]],
    style: str,
) -> None:
    path = tmp_path_factory.mktemp("yarn1") / "yarn.lock"
    path.write_bytes(_write_yarn1(entries, style).encode())
    deps = parse_file(path)
    assert pins(deps) == _expected(entries)
    assert all(d.resolved and d.resolved.endswith(".tgz") for d in deps)


#: Berry's ``stringifySyml``: a plain scalar unless it needs quotes (``syml.ts``).
_BERRY_SIMPLE = re.compile(r"^(?![-?:,\][{}#&*!|>'\"%@` \t\r\n]).([ \t]*(?![,\][{}:# \t\r\n]).)*$")


def _berry_wrap(value: str) -> str:
    return value if _BERRY_SIMPLE.match(value) else json.dumps(value)


def _write_berry(entries: list[tuple[list[tuple[str, str]], str, str]], style: str) -> str:
    document: dict[str, object] = {"__metadata": {"version": "8", "cacheKey": "10c0"}}
    for specs, real, version in entries:
        key = ", ".join(
            sorted(
                f"{name}@{rng if rng.startswith('npm:') else 'npm:' + rng}" for name, rng in specs
            )
        )
        document[key] = {
            "version": version,
            "resolution": f"{real}@npm:{version}",
            "dependencies": {"ms": "npm:^2.1.1"},
            "checksum": "10c0/abc",
            "languageName": "node",
            "linkType": "hard",
        }
    if style == "pyyaml":
        return yaml.safe_dump(document, sort_keys=False)
    out = ['# This file is generated by running "yarn install" inside your project.\n\n']
    for key, fields in document.items():
        out.append(f"{_berry_wrap(key)}:\n")
        assert isinstance(fields, dict)
        for field, value in fields.items():
            if isinstance(value, dict):
                out.append(f"  {field}:\n")
                out.extend(f"    {k}: {_berry_wrap(v)}\n" for k, v in value.items())
            else:
                out.append(f"  {field}: {_berry_wrap(value)}\n")
        out.append("\n")
    return "".join(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=_lockfiles(), style=st.sampled_from(["berry", "pyyaml"]))
def test_berry_files_written_with_yarns_quoting_read_back(
    tmp_path_factory: pytest.TempPathFactory,
    entries: list[tuple[list[tuple[str, str]], str, str]],
    style: str,
) -> None:
    path = tmp_path_factory.mktemp("berry") / "yarn.lock"
    path.write_text(_write_berry(entries, style))
    assert pins(parse_file(path)) == _expected(entries)


def test_berry_resolution_decides_over_the_header(tmp_path: Path) -> None:
    # Versions that look like package names in the header (the old parser invented
    # packages named '0.0.1' and '^2.0.0') and archive parameters after '::'.
    path = tmp_path / "yarn.lock"
    path.write_text(
        "__metadata:\n  version: 8\n\n"
        '"left-pad@npm:0.0.1, left-pad@npm:^0.0.1":\n'
        "  version: 0.0.1\n"
        '  resolution: "left-pad@npm:0.0.1"\n\n'
        '"x@npm:^2.0.0":\n'
        "  version: 2.0.0\n"
        '  resolution: "@acme/x@npm:2.0.0::__archiveUrl=https%3A%2F%2Ffiles.example.test%2Fx.tgz"\n\n'
        '"tool@exec:./gen.js":\n'
        "  version: 0.0.0-use.local\n"
        '  resolution: "tool@exec:./gen.js#./gen.js::locator=app%40workspace%3A."\n\n'
        '"dep@github:acme/dep#v1":\n'
        "  version: 1.0.0\n"
        '  resolution: "dep@https://codeload.example.test/acme/dep/tar.gz/abc"\n'
    )
    skipped: list[str] = []
    deps = parse_file(path, skipped=skipped)
    assert pins(deps) == [("left-pad", "0.0.1"), ("@acme/x", "2.0.0"), ("dep", None)]
    assert deps[2].note == (
        "resolved from https://codeload.example.test/acme/dep/tar.gz/abc (version 1.0.0), "
        "not a registry release"
    )
    assert skipped == [f"{path}: tool is exec:./gen.js#./gen.js, not a registry package; skipped"]


# --- bad lockfiles: one clear line, never a traceback -----------------------------------

BAD = [
    (
        'lodash@^4.17.21\n  version "4.17.21"\n',
        "line 3 column 16: expected ':' or a value after the key, found the end of the line",
    ),
    ('lodash@^4:\n   version "4.17.21"\n', "line 4: indented by an odd number of spaces (3)"),
    ('lodash@^4:\n\tversion "4.17.21"\n', "line 4 column 1: expected a key, found '\\t'"),
    (
        '"lodash@^4:\n  version "4.17.21"\n',
        "line 3 column 1: expected a key, found a quoted string that is not terminated",
    ),
    (
        'lodash@^4, :\n  version "1"\n',
        "line 3 column 12: expected another specifier after ',', found a colon",
    ),
    ('lodash@^4 "4.17.21"\n', "line 3: lodash@^4 is a value, not an entry with fields"),
    (
        'a@^1:\n    version "1"\n  b "2"\n',
        "line 4 column 1: expected an entry or a field of the entry above, "
        "found an indentation of 4 spaces",
    ),
    (
        # A bare 1.0.0 is the number 1 and a key '.0.0-beta.1' (Yarn 1 refuses it too).
        "pkg@latest:\n  version 1.0.0-beta.1\n",
        "line 4 column 23: expected ':' or a value after the key, found the end of the line",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_yarn_1_lockfile_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "yarn.lock"
    path.write_text(HEAD + text)
    with pytest.raises(DependencyFileError) as caught:
        parse_file(path)
    assert caught.value.detail.startswith(f"{path} {message}")
    assert "\n" not in caught.value.detail


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '# yarn lockfile v2\n\na@^1:\n  version "1"\n',
            "line 1: lockfile version 2 is newer than Yarn 1 reads (v1)",
        ),
        (
            '__metadata:\n  version: 8\n"a@npm:^1":\n  resolution: "a@npm:1.0.0\n',
            "line 5: not valid YAML (found unexpected end of stream)",
        ),
        (
            '__metadata:\n  version: 8\n\n"a@npm:^1":\n  version: 1.0.0\n',
            "line 4: entry 'a@npm:^1' has no resolution naming a package",
        ),
        (
            '__metadata:\n  version: 8\n\n"a@npm:^1": 1.0.0\n',
            "line 4: an entry is a block of fields under its specifiers",
        ),
        (
            '__metadata:\n  version: 8\n\n"a@npm:^1":\n  resolution: "a@npm:"\n',
            "line 4: resolution 'a@npm:' names no version",
        ),
        (
            'a@^1:\n<<<<<<< HEAD\n  version "1.0.0"\n=======\n  version "1.0.1"\n>>>>>>> b\n',
            ": has unresolved merge conflict markers",
        ),
    ],
)
def test_bad_lockfile_other_kinds(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "yarn.lock"
    path.write_text(text)
    with pytest.raises(DependencyFileError) as caught:
        parse_file(path)
    assert caught.value.detail.startswith(f"{path}{' ' if message[0] != ':' else ''}{message}")
    assert "\n" not in caught.value.detail


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    folder=st.sampled_from(["yarn-v1", "yarn-berry", "yarn-berry-3"]),
    cut=st.floats(0, 1),
    insert=st.sampled_from(['"', " ", "\t", ":", ",", "\n", "#", "@", "'", "[", "{", "&a", "*a"]),
)
def test_damaged_real_lockfiles_give_a_clear_error_or_a_reading(
    tmp_path_factory: pytest.TempPathFactory, folder: str, cut: float, insert: str
) -> None:
    source = Path(__file__).resolve().parents[2] / "fixtures" / "deps" / folder / "yarn.lock"
    text = source.read_text()
    at = int(len(text) * cut)
    path = tmp_path_factory.mktemp("damaged") / "yarn.lock"
    path.write_text(text[:at] + insert + text[at:])
    try:
        deps = parse_file(path)
    except DependencyFileError as exc:
        # One of this parser's own messages, never the catch-all for an unexpected exception.
        assert "not a valid yarn.lock file" not in exc.detail
        assert "\n" not in exc.detail and exc.detail.startswith(str(path))
    else:
        assert all(d.ecosystem == "npm" for d in deps)
