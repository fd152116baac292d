"""Maven sort tokens ordered exactly as Maven's own ComparableVersion orders versions.

The reference is Maven itself: ``maven-artifact``'s ComparableVersion, run by
``java`` (Debian's ``maven`` package provides both; ``.ci/run`` installs it).
Versions are generated rich in what Maven's ComparableVersionTest exercises:
known and unknown qualifiers in any case, their aliases and one-letter forms,
``.``/``-`` separators and letter-digit switches, zeros and zero padding. Every
generated version's prefixes join the sample, and each of them that ends in a
qualifier followed by ``.0`` (the qualifier kept as an item, not a sub-list), so
that where Maven's order is not transitive (``1.0.alpha`` < ``1`` < ``1.sp`` <
``1.0.alpha``) the cycle is seen: the pairs of such a triple are the only ones
no token can follow, and are left out; every other pair must compare the same
way, equality included.
"""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
from itertools import combinations
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from foss_registry.ecosystems.maven import MavenVersion, parse_version

QUALIFIERS = [
    "alpha", "a", "beta", "b", "milestone", "m", "rc", "cr", "snapshot", "ga", "final",
    "release", "sp", "foo", "bar", "xyz", "RC", "Final", "SNAPSHOT", "Beta", "CR", "GA",
]  # fmt: skip
NUMBERS = ["0", "1", "2", "3", "9", "10", "00", "01", "010"]


def _maven_jar() -> str:
    candidates = sorted(glob.glob("/usr/share/maven/lib/maven-artifact*.jar")) + sorted(
        glob.glob(str(Path.home() / ".m2/repository/org/apache/maven/maven-artifact/3.*/*.jar"))
    )
    assert candidates and shutil.which("java"), (
        "Maven's ComparableVersion is the reference of this test: install Debian's maven "
        "package (it brings java), as .ci/run does"
    )
    return candidates[0]


JAR = _maven_jar()


def maven_signs(pairs: list[tuple[str, str]]) -> list[str]:
    """Maven's verdict on each pair: '<', '>' or '='."""
    arguments = [version for pair in pairs for version in pair]
    output = subprocess.run(
        ["java", "-cp", JAR, "org.apache.maven.artifact.versioning.ComparableVersion", *arguments],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    # ComparableVersion's main compares each argument with the next: "   a < b".
    verdicts = [line.split()[1] for line in output.splitlines() if line.startswith("   ")]
    assert len(verdicts) == len(arguments) - 1
    return [verdicts[2 * i].replace("==", "=") for i in range(len(pairs))]


@st.composite
def versions(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(NUMBERS))
    for _ in range(draw(st.integers(0, 5))):
        part = draw(st.sampled_from(NUMBERS + QUALIFIERS))
        separator = draw(st.sampled_from([".", "-", ""]))
        if separator == "" and text[-1].isdigit() == part[0].isdigit():
            separator = "."  # no separator only where letters and digits switch
        text += separator + part
    return text


def _closed_under_prefixes(sample: list[str]) -> list[str]:
    prefixes = [v[: m.start()] for v in sample for m in re.finditer(r"[.-]", v)]
    # A last qualifier opens a sub-list ("0.alpha.alpha": [0, alpha, [alpha]]); with
    # ".0" after it, it stays an item and the zero is dropped ("0.alpha.0": [0, alpha]),
    # the version that ends where the other has more: the middle of a cycle such as
    # 0.alpha.alpha < 0.alpha.0 < 0.alpha.a.0 < 0.alpha.alpha.
    ended = [v + ".0" for v in sample + prefixes if v[-1].isalpha()]
    return list(dict.fromkeys(sample + prefixes + ended))


def _sign(a: object, b: object) -> str:
    return "<" if a < b else ">" if b < a else "="  # type: ignore[operator]


@settings(max_examples=12, deadline=None, database=None)
@given(st.lists(versions(), min_size=10, max_size=25))
# Maven's own cycle, whose middle version is not in the sample: seen only with it added.
@example(sample=["0", "0.alpha.alpha", "0.alpha.a.0", "0.alpha", "0.alpha.a"])
def test_tokens_order_every_pair_as_maven_does(sample: list[str]) -> None:
    sample = _closed_under_prefixes(sample)
    pairs = list(combinations(sample, 2))
    if not pairs:
        return
    relation = {(v, v): "=" for v in sample}
    for (a, b), verdict in zip(pairs, maven_signs(pairs), strict=True):
        relation[(a, b)] = verdict
        relation[(b, a)] = {"<": ">", ">": "<", "=": "="}[verdict]

    def at_most(a: str, b: str) -> bool:
        return relation[(a, b)] != ">"

    intransitive: set[tuple[str, str]] = set()
    for a in sample:
        for b in sample:
            for c in sample:
                weak = at_most(a, b) and at_most(b, c) and not at_most(a, c)
                strict = (
                    at_most(a, b)
                    and at_most(b, c)
                    and "<"
                    in (
                        relation[(a, b)],
                        relation[(b, c)],
                    )
                    and relation[(a, c)] != "<"
                )
                if weak or strict:
                    intransitive |= {(a, b), (b, a), (b, c), (c, b), (a, c), (c, a)}
    wrong = []
    for a, b in pairs:
        maven = relation[(a, b)]
        token = _sign(parse_version(a).token, parse_version(b).token)
        compared = _sign(MavenVersion(a), MavenVersion(b))
        if compared != maven or (token != maven and (a, b) not in intransitive):
            wrong.append(f"{a} {maven} {b}, but token {token}, comparison {compared}")
    assert not wrong, "\n".join(wrong[:20])


def test_the_forms_seen_in_real_projects_order_as_maven_orders_them() -> None:
    ordered = [
        "3.5.0.Beta-1",
        "3.5.0-Final",
        "3.7.0.rc.3",
        "3.7.0",
        "3.7.0.1",
        "3.7.1-SNAPSHOT",
        "3.7.1",
    ]
    pairs = list(combinations(ordered, 2))
    assert maven_signs(pairs) == ["<"] * len(pairs)
    tokens = [parse_version(v).token for v in ordered]
    assert tokens == sorted(tokens) and len(set(tokens)) == len(tokens)
