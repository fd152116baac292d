"""The contract of an external vulnerability scanner (Trivy, Grype, osv-scanner).

Each adapter runs one command-line tool on a container image reference and
turns the tool's JSON report into :class:`~foss_registry.vulns.findings.Finding`
values. Running and parsing are separate so that parsing stays pure and is
tested on real reports; :meth:`ExternalScanner.scan_image` only adds the
subprocess around :meth:`ExternalScanner.parse`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar

import msgspec

from foss_registry.vulns.findings import Finding
from foss_registry.vulns.severity import (
    UNKNOWN,
    Cvss,
    level_from_score,
    normalize_level,
    parse_cvss,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "ExternalScanner",
    "ScannerError",
    "ScannerFailedError",
    "ScannerOutputError",
    "ScannerTimeoutError",
    "ScannerUnavailableError",
]

#: Seconds a scan may run before it is killed; pulling a large image takes minutes.
DEFAULT_TIMEOUT = 900.0

# Bytes of the tool's stderr kept in an error message.
_STDERR_TAIL = 2000


class ScannerError(Exception):
    """Base of every error an external scanner raises; ``scanner`` names the tool."""

    def __init__(self, scanner: str, message: str) -> None:
        super().__init__(f"{scanner}: {message}")
        self.scanner = scanner
        self.message = message


class ScannerUnavailableError(ScannerError):
    """The tool is not installed (not on PATH, or the configured path is not executable)."""


class ScannerTimeoutError(ScannerError):
    """The tool did not finish within the timeout and was killed."""


class ScannerFailedError(ScannerError):
    """The tool exited with an error status; ``stderr`` holds the end of its error output."""

    def __init__(self, scanner: str, message: str, stderr: str = "") -> None:
        super().__init__(scanner, message)
        self.stderr = stderr


class ScannerOutputError(ScannerError):
    """The tool's output is not the JSON report the adapter expects."""


class ExternalScanner(ABC):
    """One external scanner: how to find it, run it, and read its JSON report.

    Subclasses set :attr:`name`, :attr:`executable_name` and
    :attr:`ok_exit_codes`, and implement :meth:`command` and :meth:`parse`.
    """

    #: Name shown in a scan's ``tools_used``.
    name: ClassVar[str]
    #: Program looked up on PATH when no explicit path is configured.
    executable_name: ClassVar[str]
    #: Exit statuses that mean "report written" (some tools exit 1 when they find something).
    ok_exit_codes: ClassVar[frozenset[int]] = frozenset({0})

    def __init__(self, executable: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.executable = executable
        self.timeout = timeout

    def executable_path(self) -> str | None:
        """The program to run: the configured path (or name) if executable, else a PATH lookup."""
        if self.executable:
            if os.sep in self.executable or (os.altsep and os.altsep in self.executable):
                ok = os.path.isfile(self.executable) and os.access(self.executable, os.X_OK)
                return self.executable if ok else None
            return shutil.which(self.executable)
        return shutil.which(self.executable_name)

    def available(self) -> bool:
        """True when the tool can be run on this machine."""
        return self.executable_path() is not None

    @abstractmethod
    def command(self, executable: str, ref: str) -> list[str]:
        """The argument list that scans image ``ref`` and writes a JSON report to stdout."""

    @abstractmethod
    def parse(self, data: bytes | str) -> list[Finding]:
        """Turn the tool's JSON report into findings (one per reported match, not merged).

        Raises :class:`ScannerOutputError` when ``data`` is not such a report.
        """

    def scan_image(self, ref: str) -> list[Finding]:
        """Run the tool on container image ``ref`` and return its findings.

        Raises :class:`ScannerUnavailableError`, :class:`ScannerTimeoutError`,
        :class:`ScannerFailedError` or :class:`ScannerOutputError`.
        """
        _check_ref(self.name, ref)
        executable = self.executable_path()
        if executable is None:
            raise ScannerUnavailableError(
                self.name, f"{self.executable or self.executable_name!r} not found"
            )
        try:
            # A list of arguments and no shell: the image reference is never interpreted.
            completed = subprocess.run(
                self.command(executable, ref),
                capture_output=True,
                timeout=self.timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise ScannerTimeoutError(self.name, f"no result after {self.timeout:g} s") from None
        except OSError as exc:
            raise ScannerUnavailableError(self.name, f"cannot run {executable}: {exc}") from None
        if completed.returncode not in self.ok_exit_codes:
            stderr = completed.stderr.decode("utf-8", "replace")[-_STDERR_TAIL:]
            raise ScannerFailedError(
                self.name, f"exited with status {completed.returncode}", stderr=stderr
            )
        return self.parse(completed.stdout)

    def _load(self, data: bytes | str) -> Any:
        """Decode JSON, raising ScannerOutputError with the tool's name on failure."""
        try:
            return msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            raise ScannerOutputError(self.name, f"output is not JSON ({exc})") from None


def _check_ref(scanner: str, ref: str) -> None:
    # A reference starting with "-" would be read as an option by the tool.
    if not ref or ref.startswith("-") or any(c.isspace() or c == "\0" for c in ref):
        raise ScannerError(scanner, f"not a valid image reference: {ref!r}")


# --- helpers shared by the adapters ------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    """The value if it is a list, else an empty list (reports use null for "none")."""
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    """The value if it is an object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str:
    """The value if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""


def dedupe(items: Iterable[Any]) -> tuple[str, ...]:
    """Non-empty strings of ``items`` in first-seen order, without repeats."""
    return tuple(dict.fromkeys(i for i in items if isinstance(i, str) and i))


def cvss_from(vector: Any, score: Any = None) -> Cvss | None:
    """A Cvss from a vector string, keeping the tool's score when it gives one."""
    if not isinstance(vector, str) or not vector:
        return None
    parsed = parse_cvss(vector)
    if parsed is None:
        return None
    if isinstance(score, int | float) and not isinstance(score, bool):
        return Cvss(parsed.version, parsed.vector, round(float(score), 1))
    return parsed


def level_or_cvss(word: Any, cvss: Cvss | None) -> str:
    """The tool's own rating word if it names a level, else the level of its CVSS score."""
    level = normalize_level(word if isinstance(word, str) else None)
    if level == UNKNOWN and cvss is not None:
        return level_from_score(cvss.score)
    return level
