"""Small pure helpers of the vulnerability database service and its download."""

from __future__ import annotations

from foss_registry.vulns.service import ImportReport, source_of
from foss_registry.vulns.sync import export_url


def test_source_is_the_id_prefix() -> None:
    assert source_of("PYSEC-2023-62") == "PYSEC"
    assert source_of("GHSA-jf85-cpcp-j695") == "GHSA"
    assert source_of("MAL-2022-7436") == "MAL"
    assert source_of("RUSTSEC-2022-0041") == "RUSTSEC"
    assert source_of("weird") == "OTHER"


def test_export_url_layout() -> None:
    assert export_url("http://mirror/osv/", "PyPI") == "http://mirror/osv/PyPI/all.zip"
    assert export_url("http://mirror", "crates.io") == "http://mirror/crates.io/all.zip"
    assert export_url("http://mirror", "Go Modules") == "http://mirror/Go%20Modules/all.zip"


def test_reports_add_up() -> None:
    total = ImportReport()
    total.merge(ImportReport(read=3, new=2, unchanged=1, touched={("pypi", "a")}, rescans=2, confirmed=3))
    total.merge(ImportReport(read=1, older=1, invalid=1, errors=["bad"], touched={("npm", "b")}))
    assert total.as_dict() == {
        "read": 4,
        "new": 2,
        "updated": 0,
        "unchanged": 1,
        "older": 1,
        "withdrawn": 0,
        "skipped": 0,
        "invalid": 1,
        "errors": ["bad"],
        "packages_touched": 2,
        "rescans": 2,
        "scans_confirmed": 3,
    }
