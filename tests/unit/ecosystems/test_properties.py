"""Property tests: sort tokens order like the ecosystems, canonical forms judge sameness.

For every ecosystem and generated versions a and b:

* the sign of ``compare(a, b)`` is the sign of comparing their sort tokens as
  the database does (byte order), and
* ``canonical_version(a) == canonical_version(b)`` exactly when they compare equal
  (not for Docker, where tags are names and 1.0 and 1.0.0 are two tags).

The generators build realistic versions from their parts, and draw the parts
from small pools so that equal and near-equal pairs come up often.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version
from univers.versions import SemverVersion

from foss_registry.ecosystems.base import MAX_VERSION_LENGTH
from foss_registry.ecosystems.docker import Docker
from foss_registry.ecosystems.maven import Maven, canonical_string, parse_items
from foss_registry.ecosystems.npm import Npm
from foss_registry.ecosystems.pypi import PyPI

from .helpers import sign, token_cmp

pypi, npm, maven, docker = PyPI(), Npm(), Maven(), Docker()

moderate = settings(max_examples=300, deadline=None)

# Small numbers collide often; a few huge ones exercise the length prefix.
numbers = st.one_of(st.integers(0, 3), st.integers(0, 12), st.integers(10**15, 10**30))


def short(version: str) -> bool:
    """Return whether a generated version is within the accepted length."""
    return len(version) <= MAX_VERSION_LENGTH


def digits(number: int, padded: bool) -> str:
    """Spell a number, with a leading zero when padded (PEP 440 and Maven ignore it)."""
    return f"0{number}" if padded else str(number)


# --- PyPI ------------------------------------------------------------------


@st.composite
def _pep440_versions(draw: st.DrawFn) -> str:
    """A PEP 440 version built from an epoch, release, pre, post, dev and local part."""
    out = draw(st.sampled_from(["", "", "", "v", "V"]))
    epoch = draw(st.sampled_from([None, None, None, 0, 1, 2]))
    if epoch is not None:
        out += f"{epoch}!"
    release = draw(st.lists(numbers, min_size=1, max_size=5))
    padded = draw(st.booleans())
    out += ".".join(digits(n, padded and n < 10) for n in release)
    if draw(st.booleans()):
        label = draw(
            st.sampled_from(["a", "b", "rc", "alpha", "beta", "c", "pre", "preview", "RC"])
        )
        separator = draw(st.sampled_from(["", ".", "-", "_"]))
        out += f"{separator}{label}{draw(st.sampled_from(['', '0', '1', '2', '11']))}"
    if draw(st.booleans()):
        out += draw(st.sampled_from([".post", ".post0", ".post1", "-1", "post2", "-post3", "_r1"]))
    if draw(st.booleans()):
        out += draw(st.sampled_from([".dev", ".dev0", ".dev1", "dev2", "-dev10"]))
    if draw(st.integers(0, 3)) == 0:
        segments = draw(
            st.lists(
                st.sampled_from(["0", "1", "01", "2", "10", "a", "abc", "b1", "ubuntu", "Z"]),
                min_size=1,
                max_size=3,
            )
        )
        out += "+" + draw(st.sampled_from([".", "-", "_"])).join(segments)
    return out


pep440_versions = _pep440_versions().filter(short)
# A short spelling can normalise to a longer one ("1a" is "1a0", "1.post" is
# "1.post0"), past the length the code accepts; stability is a property of
# canonical forms the code accepts, so those are judged by packaging's normal form.
pep440_versions_short_normal = pep440_versions.filter(lambda v: short(str(Version(v))))


@moderate
@given(pep440_versions, pep440_versions)
def test_pypi_token_order_matches_pep440(a: str, b: str) -> None:
    assert sign(pypi.compare(a, b)) == token_cmp(pypi.sort_token(a), pypi.sort_token(b))
    assert sign(pypi.compare(a, b)) == sign((Version(a) > Version(b)) - (Version(a) < Version(b)))


@moderate
@given(pep440_versions, pep440_versions)
def test_pypi_canonical_iff_equal(a: str, b: str) -> None:
    same = pypi.canonical_version(a) == pypi.canonical_version(b)
    assert same == (pypi.compare(a, b) == 0)
    if same:
        assert pypi.sort_token(a) == pypi.sort_token(b)


@moderate
@given(pep440_versions_short_normal)
def test_pypi_canonical_is_stable(version: str) -> None:
    canonical = pypi.canonical_version(version)
    assert pypi.canonical_version(canonical) == canonical
    assert pypi.compare(canonical, version) == 0


# --- npm -------------------------------------------------------------------

npm_numbers = st.one_of(st.integers(0, 3), st.integers(0, 12), st.integers(10**12, 2**53 - 1))
prerelease_ids = st.one_of(
    st.sampled_from(["alpha", "beta", "rc", "a", "A", "Z", "x-y", "-", "--", "a1", "alpha1", "0a"]),
    st.integers(0, 12).map(str),
    st.integers(10**15, 10**25).map(str),
    st.from_regex(r"\A[a-zA-Z-][0-9A-Za-z-]{0,4}\Z", fullmatch=True),
)


@st.composite
def _semver_versions(draw: st.DrawFn) -> str:
    """A SemVer 2.0 version with optional ``v``/``=`` prefix, pre-release and build."""
    out = draw(st.sampled_from(["", "", "v", "=", "=v"]))
    # npm refuses a major, minor or patch above 2^53-1 (as node-semver does).
    out += ".".join(str(draw(npm_numbers)) for _ in range(3))
    ids = draw(st.lists(prerelease_ids, max_size=4))
    if ids:
        out += "-" + ".".join(ids)
    if draw(st.integers(0, 3)) == 0:
        out += "+" + draw(st.sampled_from(["1", "build.5", "exp.sha.5114f85", "001"]))
    return out


semver_versions = _semver_versions().filter(short)


@moderate
@given(semver_versions, semver_versions)
def test_npm_token_order_matches_semver(a: str, b: str) -> None:
    assert sign(npm.compare(a, b)) == token_cmp(npm.sort_token(a), npm.sort_token(b))


@moderate
@given(semver_versions, semver_versions)
def test_npm_order_matches_univers(a: str, b: str) -> None:
    # univers' SemverVersion (semantic_version) as an independent oracle; it counts
    # build metadata in equality, so it gets the canonical forms, which have none.
    ua, ub = SemverVersion(npm.canonical_version(a)), SemverVersion(npm.canonical_version(b))
    assert sign(npm.compare(a, b)) == (ua > ub) - (ua < ub)


@moderate
@given(semver_versions, semver_versions)
def test_npm_canonical_iff_equal(a: str, b: str) -> None:
    same = npm.canonical_version(a) == npm.canonical_version(b)
    assert same == (npm.compare(a, b) == 0)
    if same:
        assert npm.sort_token(a) == npm.sort_token(b)


# --- Maven -----------------------------------------------------------------

# Qualifiers that may be followed by more parts.
qualifier_words = st.sampled_from(
    [
        "alpha",
        "beta",
        "milestone",
        "rc",
        "cr",
        "snapshot",
        "SNAPSHOT",
        "sp",
        "SP",
        "jre",
        "android",
        "redhat",
        "abc",
        "xyz",
        "a",
        "b",
        "m",
        "M",
        "RC",
        "x_y",
    ]
)
# Qualifiers that mean a release; Maven drops them, so they are only generated
# last: dropped before a sub-list they would leave a list that starts with a
# list, where Maven's own order stops being transitive.
final_words = st.one_of(
    qualifier_words, st.sampled_from(["ga", "GA", "final", "Final", "release", "RELEASE"])
)
positive = st.integers(1, 12)


@st.composite
def _maven_versions(draw: st.DrawFn) -> str:
    """A Maven version in the forms real artifacts use.

    A qualifier opens a sub-list (after ``-``, next to digits, or last), a
    number that opens a sub-list is not 0, and a release qualifier comes last:
    the forms for which Maven's order is transitive and the sort token exact.
    """
    out = digits(draw(numbers), draw(st.booleans()))
    last = "number"
    for _ in range(draw(st.integers(0, 5))):
        options = [".number", "-number", "-word", ".word-digits"]
        options.append("word" if last == "number" else "digits")
        step = draw(st.sampled_from(options))
        if step == ".number":
            out += "." + digits(draw(numbers), draw(st.booleans()))
            last = "number"
        elif step == "-number":
            out += f"-{draw(positive)}"
            last = "number"
        elif step == "-word":
            out += "-" + draw(qualifier_words)
            last = "word"
        elif step == ".word-digits":
            out += f".{draw(qualifier_words)}{draw(positive)}"
            last = "number"
        elif step == "word":
            out += draw(qualifier_words)
            last = "word"
        else:
            out += str(draw(positive))
            last = "number"
    if draw(st.booleans()):
        out += draw(st.sampled_from([".", "-", ""])) + draw(final_words)
    return out


maven_versions = _maven_versions().filter(short)
# Anything the validator lets through, for the properties that hold for every input.
any_maven_versions = st.one_of(
    maven_versions,
    st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._+-]{0,15}\Z", fullmatch=True),
    st.from_regex(r"\A[0-9][0-9.-]{0,6}[a-z]{0,3}[0-9.-]{0,4}\Z", fullmatch=True),
)


@moderate
@given(maven_versions, maven_versions)
def test_maven_token_order_matches_comparable_version(a: str, b: str) -> None:
    assert sign(maven.compare(a, b)) == token_cmp(maven.sort_token(a), maven.sort_token(b))


@moderate
@given(any_maven_versions, any_maven_versions)
def test_maven_canonical_iff_equal(a: str, b: str) -> None:
    same = maven.canonical_version(a) == maven.canonical_version(b)
    assert same == (maven.compare(a, b) == 0)
    if same:
        assert maven.sort_token(a) == maven.sort_token(b)


@moderate
@given(any_maven_versions)
def test_maven_canonical_parses_back(version: str) -> None:
    canonical = maven.canonical_version(version)
    assert parse_items(canonical) == parse_items(version)
    assert canonical_string(parse_items(canonical)) == canonical


@moderate
@given(any_maven_versions, any_maven_versions)
def test_maven_compare_is_antisymmetric(a: str, b: str) -> None:
    assert maven.compare(a, b) == -maven.compare(b, a)


# --- Docker ----------------------------------------------------------------

docker_tags = st.one_of(
    st.sampled_from(["latest", "stable", "alpine", "1.25.3-alpine", "main", "edge", "bookworm"]),
    st.builds(
        lambda prefix, parts: prefix + ".".join(map(str, parts)),
        st.sampled_from(["", "v"]),
        st.lists(st.integers(0, 30), min_size=1, max_size=4),
    ),
    st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}\Z", fullmatch=True),
    st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: "sha256:" + h),
)


@moderate
@given(docker_tags, docker_tags)
def test_docker_token_order_matches_compare(a: str, b: str) -> None:
    assert sign(docker.compare(a, b)) == token_cmp(docker.sort_token(a), docker.sort_token(b))


@moderate
@given(docker_tags)
def test_docker_canonical_is_stable(tag: str) -> None:
    canonical = docker.canonical_version(tag)
    assert docker.canonical_version(canonical) == canonical
    assert docker.sort_token(canonical) == docker.sort_token(tag)


# --- all -------------------------------------------------------------------


@moderate
@given(st.lists(pep440_versions, max_size=8))
def test_pypi_sorting_by_token_equals_sorting_by_version(versions: list[str]) -> None:
    by_token = [pypi.canonical_version(v) for v in sorted(versions, key=pypi.sort_token)]
    by_version = [pypi.canonical_version(v) for v in pypi.sorted_versions(versions)]
    assert by_token == by_version


@moderate
@given(st.lists(maven_versions, max_size=8))
def test_maven_sorting_by_token_equals_sorting_by_version(versions: list[str]) -> None:
    by_token = [maven.canonical_version(v) for v in sorted(versions, key=maven.sort_token)]
    by_version = [maven.canonical_version(v) for v in maven.sorted_versions(versions)]
    assert by_token == by_version
