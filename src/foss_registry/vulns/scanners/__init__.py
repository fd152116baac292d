"""External vulnerability scanners run on container images, behind one interface.

:data:`SCANNERS` maps each tool's name to its adapter class; every adapter
implements :class:`~foss_registry.vulns.scanners.interface.ExternalScanner`.
"""

from __future__ import annotations

from foss_registry.vulns.scanners.grype import GrypeScanner
from foss_registry.vulns.scanners.interface import (
    DEFAULT_TIMEOUT,
    ExternalScanner,
    ScannerError,
    ScannerFailedError,
    ScannerOutputError,
    ScannerTimeoutError,
    ScannerUnavailableError,
)
from foss_registry.vulns.scanners.osv_scanner import OsvScanner
from foss_registry.vulns.scanners.trivy import TrivyScanner

#: Adapter classes by tool name, in the order they are tried.
SCANNERS: dict[str, type[ExternalScanner]] = {
    cls.name: cls for cls in (TrivyScanner, GrypeScanner, OsvScanner)
}

__all__ = [
    "DEFAULT_TIMEOUT",
    "SCANNERS",
    "ExternalScanner",
    "GrypeScanner",
    "OsvScanner",
    "ScannerError",
    "ScannerFailedError",
    "ScannerOutputError",
    "ScannerTimeoutError",
    "ScannerUnavailableError",
    "TrivyScanner",
]
