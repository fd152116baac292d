"""requirements.txt lines joined and commented exactly as pip's own parser does.

Files are generated from requirement lines cut at random places by backslash
continuations (one or several backslashes, a space after one, indentation on the
next line, comment lines in between, CRLF ends) and read by both pip's
``parse_requirements`` and ours: where pip's requirements are all valid, we find
the same names and pinned versions; where one is not, we refuse the file (a line
pip reads as a local path is skipped by both).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, canonicalize_version

# pip itself, from this virtual environment (every venv has it), is the reference.
from pip._internal.network.session import PipSession
from pip._internal.req.req_file import parse_requirements

from foss_registry.deps import DependencyFileError, parse_file

REQUIREMENTS = [
    "bar == 4.5.6",
    "flask==2.3.0",
    "requests >= 2.0, < 3",
    "zope.interface==6.1",
    "Django[argon2] == 4.2.7",
    "attrs==23.1.0 ; python_version >= '3.8'",
    "numpy",
    "pkg_a===1.0.0+local",
]


@st.composite
def continued(draw: st.DrawFn, line: str) -> list[str]:
    """``line`` cut into physical lines at random points, joined back by backslashes."""
    cuts = sorted(draw(st.sets(st.integers(1, len(line) - 1), max_size=3)))
    parts = [line[i:j] for i, j in zip([0, *cuts], [*cuts, len(line)], strict=True)]
    physical = []
    for part in parts[:-1]:
        ending = draw(st.sampled_from(["\\", "\\", "\\\\", " \\", "\\ "]))
        physical.append(part + ending)
        if draw(st.integers(0, 6)) == 0:
            physical.append(draw(st.sampled_from(["# a comment", "  # indented comment"])))
    last = parts[-1]
    if draw(st.booleans()) and physical:
        last = draw(st.sampled_from(["", "  ", "\t"])) + last
    physical.append(last + draw(st.sampled_from(["", "", "  # trailing comment"])))
    return physical


@st.composite
def requirements_files(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for requirement in draw(st.lists(st.sampled_from(REQUIREMENTS), min_size=1, max_size=4)):
        lines.extend(draw(continued(requirement)))
        if draw(st.integers(0, 4)) == 0:
            lines.append(draw(st.sampled_from(["", "# comment \\", "   "])))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    return end.join(lines) + draw(st.sampled_from(["", end]))


def _pip_reads(path: Path) -> list[str]:
    return [r.requirement for r in parse_requirements(str(path), session=PipSession())]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=requirements_files())
def test_continuations_and_comments_as_pip_reads_them(tmp_path: Path, text: str) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(text.encode())
    expected = []
    valid = True
    for line in _pip_reads(path):
        if line.startswith((".", "/")):
            continue  # pip reads a local path here (a continuation cut before ".6"): skipped
        try:
            expected.append(Requirement(line))
        except InvalidRequirement:
            valid = False
    if not valid:
        with pytest.raises(DependencyFileError):
            parse_file(path)
        return
    ours = [(d.name, d.version) for d in parse_file(path)]
    theirs = []
    seen = set()
    for req in expected:
        spec = [s for s in req.specifier if s.operator in ("==", "===")]
        version = spec[0].version if len(req.specifier) == 1 and spec else None
        # Like the product (deps.base.dedupe_key), one release named twice is one
        # dependency: names and versions are compared canonically (2.3 is 2.3.0).
        key = (canonicalize_name(req.name), canonicalize_version(version) if version else None)
        if key not in seen:
            seen.add(key)
            theirs.append((req.name, version))
    assert ours == theirs, text
