"""Helpers shared by the ecosystem tests."""

from __future__ import annotations

from foss_registry.ecosystems import Ecosystem


def sign(value: int) -> int:
    """Return -1, 0 or 1 for the sign of value."""
    return (value > 0) - (value < 0)


def token_cmp(a: str, b: str) -> int:
    """Compare two sort tokens as the database does (byte order of ASCII strings)."""
    assert a.isascii() and b.isascii(), (a, b)
    return (a > b) - (a < b)


def assert_actionable(message: str, offending: str | None = None) -> None:
    """Check that an error message is one sentence and names the offending value."""
    assert message[0].isupper(), message
    assert message.endswith("."), message
    assert "\n" not in message, message
    if offending is not None:
        assert repr(offending) in message, message


def assert_strictly_increasing(eco: Ecosystem, versions: list[str]) -> None:
    """Check that versions are listed lowest first, by compare and by sort token alike."""
    for low_index, low in enumerate(versions):
        for high in versions[low_index + 1 :]:
            assert eco.compare(low, high) < 0, f"expected {low} < {high}"
            assert eco.compare(high, low) > 0, f"expected {high} > {low}"
            assert eco.sort_token(low) < eco.sort_token(high), f"token {low} < {high}"


def assert_same_version(eco: Ecosystem, a: str, b: str) -> None:
    """Check that two spellings are one version: equal order, canonical form and token."""
    assert eco.compare(a, b) == 0, f"expected {a} == {b}"
    assert eco.canonical_version(a) == eco.canonical_version(b), (a, b)
    assert eco.sort_token(a) == eco.sort_token(b), (a, b)
