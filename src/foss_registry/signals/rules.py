"""Risk signals: pure functions from a version's facts to ``{code, level, message}``.

Each signal has a code (DESIGN "Upstream metadata and risk signals"), a level
the policy's ``[signals]`` table sets (``info``, ``review`` or ``block``) and a
message a reviewer understands. Nothing here reads a database or the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from foss_registry.errors import FieldError, InvalidInputError
from foss_registry.licenses.expressions import spdx_licensing

LEVELS = ("info", "review", "block")
CODES = (
    "license_mismatch",
    "license_from_upstream",
    "too_new",
    "yanked",
    "deprecated",
    "install_scripts",
    "sdist_only",
    "typosquat",
    "not_found_upstream",
    "no_repository",
)
DEFAULT_LEVELS: Mapping[str, str] = MappingProxyType(
    {code: "info" for code in CODES}
    | {
        "typosquat": "review",
        "not_found_upstream": "review",
        "yanked": "review",
        "install_scripts": "review",
    }
)
DEFAULT_MIN_RELEASE_AGE_DAYS = 3.0


@dataclass(frozen=True)
class Signal:
    """One risk signal of a version."""

    code: str
    level: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The API shape."""
        return {"code": self.code, "level": self.level, "message": self.message}


@dataclass(frozen=True)
class SignalPolicy:
    """The ``[signals]`` table of the policy: the minimum release age and a level per code."""

    min_release_age_days: float = DEFAULT_MIN_RELEASE_AGE_DAYS
    levels: Mapping[str, str] = field(default_factory=lambda: DEFAULT_LEVELS)

    def level(self, code: str) -> str:
        """The level a code gets."""
        return self.levels.get(code, DEFAULT_LEVELS[code])

    def to_dict(self) -> dict[str, Any]:
        """The flat table as data: the age first, then every code's level."""
        return {"min_release_age_days": self.min_release_age_days} | {
            code: self.level(code) for code in CODES
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "policy") -> SignalPolicy:
        """Validate a flat ``[signals]`` table; unknown codes and levels are a 400."""
        if data is None:
            return cls()
        errors: list[FieldError] = []
        if not isinstance(data, Mapping):
            raise InvalidInputError(
                f"[signals] in {source} must be a table.",
                code="invalid_policy",
                errors=[FieldError("signals", "must be a table")],
            )
        age = DEFAULT_MIN_RELEASE_AGE_DAYS
        levels = dict(DEFAULT_LEVELS)
        for key, value in data.items():
            where = f"signals.{key}"
            if key == "min_release_age_days":
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    errors.append(FieldError(where, "must be a number of days, 0 or more"))
                else:
                    age = float(value)
            elif key not in CODES:
                errors.append(
                    FieldError(where, f"unknown signal; expected min_release_age_days or one of "
                               f"{', '.join(CODES)}")
                )
            elif value not in LEVELS:
                errors.append(FieldError(where, f"must be one of {', '.join(LEVELS)}"))
            else:
                levels[key] = value
        if errors:
            raise InvalidInputError(
                f"The [signals] table in {source} is not valid: "
                + "; ".join(f"{e.field}: {e.message}" for e in errors),
                code="invalid_policy",
                errors=errors,
            )
        return cls(age, MappingProxyType(levels))


@dataclass(frozen=True)
class VersionFacts:
    """What the signals look at: the submission, upstream's answer, and the name check."""

    ecosystem: str
    name: str
    version: str
    #: ``ok``, ``not_found``, ``unavailable``, ``not_configured`` or ``pending``.
    status: str
    #: The submitted license, normalised (None when none was submitted).
    submitted_license: str | None = None
    #: Upstream's license as written, and normalised (None when it does not parse).
    upstream_license_raw: str | None = None
    upstream_license: str | None = None
    #: True when no license was submitted and upstream's is used.
    license_from_upstream: bool = False
    released_at: datetime | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    deprecated: str | None = None
    install_scripts: tuple[tuple[str, str], ...] = ()
    file_kinds: tuple[str, ...] = ()
    repository: str | None = None
    submitted_repository: str | None = None
    #: The typosquat finding's message, if the name imitates a known one.
    typosquat: str | None = None
    #: The upstream's URL (for messages).
    source: str | None = None


def _same_license(a: str, b: str) -> bool:
    try:
        return bool(spdx_licensing().is_equivalent(a, b))
    except Exception:  # an expression the library cannot compare: compare the text
        return a.strip().lower() == b.strip().lower()


def license_mismatch(f: VersionFacts) -> str | None:
    """The submitted license differs from upstream's (compared as SPDX expressions)."""
    if f.status != "ok" or f.submitted_license is None or f.license_from_upstream:
        return None
    if f.upstream_license is not None:
        if _same_license(f.submitted_license, f.upstream_license):
            return None
        return (
            f"the submission says {f.submitted_license} but upstream declares "
            f"{f.upstream_license}"
        )
    if f.upstream_license_raw:
        return (
            f"the submission says {f.submitted_license} but upstream declares "
            f"{f.upstream_license_raw!r}, which is not an SPDX expression; compare them by hand"
        )
    return None


def license_from_upstream(f: VersionFacts) -> str | None:
    """No license was submitted and upstream's is used."""
    if not f.license_from_upstream:
        return None
    if f.upstream_license is not None:
        return f"no license was submitted; upstream declares {f.upstream_license}, used here"
    return (
        f"no license was submitted; upstream declares {f.upstream_license_raw!r}, which is "
        "not an SPDX expression: kept as an unknown license"
    )


def _age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(int(delta.total_seconds() // 60), 0)} minutes"
    if hours < 48:
        return f"{int(hours)} hours"
    return f"{int(hours // 24)} days"


def too_new(f: VersionFacts, now: datetime, min_age_days: float) -> str | None:
    """Released less than the policy's minimum age ago."""
    if f.released_at is None or min_age_days <= 0:
        return None
    age = now - f.released_at
    if age >= timedelta(days=min_age_days):
        return None
    return (
        f"released {_age(age)} ago, less than the policy's minimum of {min_age_days:g} days: "
        "new releases are where hijacked and malicious versions show up first"
    )


def yanked(f: VersionFacts) -> str | None:
    """Upstream yanked the version."""
    if not f.yanked:
        return None
    reason = f" (reason: {f.yanked_reason})" if f.yanked_reason else ""
    return f"upstream has yanked this version{reason}; installers skip it unless pinned"


def deprecated(f: VersionFacts) -> str | None:
    """Upstream marks the version deprecated."""
    if not f.deprecated:
        return None
    return f"upstream marks this version deprecated: {f.deprecated}"


def install_scripts(f: VersionFacts) -> str | None:
    """The package runs scripts when it is installed (npm ``preinstall``/``install``/…)."""
    if not f.install_scripts:
        return None
    listed = "; ".join(f"{name}: {command}" for name, command in f.install_scripts)
    return f"runs code when installed ({listed})"


def sdist_only(f: VersionFacts) -> str | None:
    """PyPI has only a source distribution: building it runs its code at install."""
    if f.ecosystem != "pypi" or f.status != "ok" or not f.file_kinds:
        return None
    if "wheel" in f.file_kinds:
        return None
    return "upstream has no wheel for this version, only a source distribution: " \
        "its build code runs at install"


def typosquat(f: VersionFacts) -> str | None:
    """The name imitates a popular or approved name it is not."""
    return f.typosquat


def not_found_upstream(f: VersionFacts) -> str | None:
    """Upstream does not know the name or the version (a dependency-confusion risk)."""
    if f.status != "not_found":
        return None
    where = f" ({f.source})" if f.source else ""
    return (
        f"the upstream registry{where} does not know {f.name} {f.version}: an internal name "
        "shadowed by a public one, or a package that does not exist (dependency confusion)"
    )


def no_repository(f: VersionFacts) -> str | None:
    """Neither upstream nor the submission names a source repository."""
    if f.status != "ok" or f.repository or f.submitted_repository:
        return None
    return "neither upstream nor the submission names a source repository to review"


def compute(f: VersionFacts, policy: SignalPolicy, now: datetime) -> list[Signal]:
    """Every signal of a version, in the order of :data:`CODES`, with the policy's levels."""
    messages = {
        "license_mismatch": license_mismatch(f),
        "license_from_upstream": license_from_upstream(f),
        "too_new": too_new(f, now, policy.min_release_age_days),
        "yanked": yanked(f),
        "deprecated": deprecated(f),
        "install_scripts": install_scripts(f),
        "sdist_only": sdist_only(f),
        "typosquat": typosquat(f),
        "not_found_upstream": not_found_upstream(f),
        "no_repository": no_repository(f),
    }
    return [
        Signal(code, policy.level(code), message)
        for code, message in messages.items()
        if message is not None
    ]
