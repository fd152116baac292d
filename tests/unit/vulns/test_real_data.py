"""The matcher and reader on the real OSV data in the shared folder (never copied here)."""

from __future__ import annotations

import time
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import pytest

from foss_registry import ecosystems
from foss_registry.vulns import osv
from foss_registry.vulns.findings import findings_for_version
from foss_registry.vulns.matcher import (
    EVALUATED_RANGE_TYPES,
    CompiledAffected,
    compile_affected,
    compile_record,
    prepare_version,
    record_matches,
)
from foss_registry.vulns.osv import Record

# Record counts per zip, as the data's README lists them.
ZIP_COUNTS = {
    "GHSA-Maven.zip": 3,
    "GHSA-PyPI.zip": 2,
    "GHSA-npm.zip": 4,
    "MAL-Maven.zip": 1,
    "MAL-PyPI.zip": 9207,
    "MAL-npm.zip": 22290,
    "PyPI-pypa.zip": 2661,
}

# Listed versions that the record's own ECOSYSTEM/SEMVER ranges do not contain
# under the schema's evaluation. Each is an inconsistency in the upstream data,
# not in the matcher; the versions list still flags these versions, because a
# version is affected if it is in the list OR in a range.
KNOWN_INCONSISTENT = {
    # The malicious-packages source lists versions below the range's introduced
    # event (the ranges come from a second source that saw a later release).
    ("MAL-2025-3661", "99.9.0"),
    ("MAL-2025-3663", "99.9.0"),
    ("MAL-2025-3959", "99.9.0"),
    ("MAL-2025-3960", "99.9.0"),
    ("MAL-2025-3961", "1.0.0"),
    # django: the list has pre-releases of 3.2 and 4.2, but the ranges start at the
    # final 3.2 and 4.2, and PEP 440 orders a pre-release before its release.
    ("PYSEC-2023-61", "3.2a1"),
    ("PYSEC-2023-61", "3.2b1"),
    ("PYSEC-2023-61", "3.2rc1"),
    ("PYSEC-2023-61", "4.2a1"),
    ("PYSEC-2023-61", "4.2b1"),
    ("PYSEC-2023-61", "4.2rc1"),
    # gevent: the list includes the fixed version 23.9.0 itself and its post-release.
    ("PYSEC-2023-177", "23.9.0"),
    ("PYSEC-2023-177", "23.9.0.post1"),
    # wagtail: one event list holds two overlapping intervals, [2.11, 2.11.7) and
    # [0, 2.11.6). Sorted, as the schema requires, "fixed 2.11.6" ends the union at 2.11.6.
    ("PYSEC-2021-114", "2.11.6"),
}


def zips(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "osv").glob("*.zip"))


def load(shared_data: Path, zip_name: str, record_id: str) -> Record:
    path = shared_data / "osv" / zip_name
    with zipfile.ZipFile(path) as archive:
        return osv.parse_record(archive.read(f"{record_id}.json"), source=f"{path}:{record_id}")


def without_versions(record: Record) -> Record:
    """The record with its explicit versions lists removed: only ranges decide."""
    return msgspec.structs.replace(
        record, affected=tuple(msgspec.structs.replace(a, versions=()) for a in record.affected)
    )


@pytest.fixture(scope="module")
def pypa_by_package(shared_data: Path) -> dict[tuple[str, str], list[Record]]:
    """PyPI-pypa records indexed as storage would index them."""
    index: dict[tuple[str, str], list[Record]] = {}
    for record in osv.iter_records(shared_data / "osv" / "PyPI-pypa.zip"):
        for pair in osv.affected_packages(record):
            index.setdefault(pair, []).append(record)
    return index


# --- reading ------------------------------------------------------------------------------


@dataclass
class Survey:
    """What one streaming pass over every shared zip saw."""

    counts: Counter[str] = field(default_factory=Counter)
    errors: list[osv.OSVRecordError] = field(default_factory=list)
    withdrawn: int = 0
    seconds: float = 0.0
    pairs: Counter[str] = field(default_factory=Counter)
    unindexed: int = 0
    # (record id, entry compiled without its versions list, the listed versions)
    listed: list[tuple[str, CompiledAffected, tuple[str, ...]]] = field(default_factory=list)


@pytest.fixture(scope="module")
def survey(shared_data: Path) -> Survey:
    """Parse every shared zip once (the time is printed, not asserted), then index and collect listed versions."""
    result = Survey()
    records: list[Record] = []
    started = time.perf_counter()
    for path in zips(shared_data):
        for record in osv.iter_records(path, on_error=result.errors.append):
            result.counts[path.name] += 1
            records.append(record)
    result.seconds = time.perf_counter() - started
    for record in records:
        result.withdrawn += record.is_withdrawn
        found = osv.affected_packages(record)
        result.unindexed += not found
        result.pairs.update(eco for eco, _ in found)
        if record.is_withdrawn:
            continue
        for entry in record.affected:
            has_ranges = any(r.type in EVALUATED_RANGE_TYPES for r in entry.ranges)
            if entry.package is None or not entry.versions or not has_ranges:
                continue
            eco = osv.ecosystem_for(entry.package.ecosystem)
            assert eco is not None
            # Ranges alone decide: the versions list is what they are checked against.
            ranges_only = compile_affected(msgspec.structs.replace(entry, versions=()), eco)
            result.listed.append((record.id, ranges_only, entry.versions))
    return result


def test_every_shared_zip_parses_completely(shared_data: Path, survey: Survey) -> None:
    print(f"\nparsed {survey.counts.total()} records from 7 zips in {survey.seconds:.2f} s")
    assert survey.errors == []
    assert dict(survey.counts) == ZIP_COUNTS
    assert {p.name: osv.count_records(p) for p in zips(shared_data)} == ZIP_COUNTS
    assert survey.withdrawn == 64


def test_index_pairs_cover_the_three_ecosystems(survey: Survey) -> None:
    print(f"\nindex pairs: {dict(survey.pairs)}; records without a valid name: {survey.unindexed}")
    assert set(survey.pairs) == {"pypi", "npm", "maven"}
    # Names an ecosystem rejects are left out of the index; real data has (almost) none.
    assert survey.unindexed < 100


# --- ranges against the records' own versions lists -----------------------------------------


def verdicts(survey: Survey, sample: bool) -> dict[tuple[str, str], bool | None]:
    """Range verdict per (record id, listed version); None when the version doesn't parse."""
    out: dict[tuple[str, str], bool | None] = {}
    for record_id, compiled, versions in survey.listed:
        eco = ecosystems.get(compiled.ecosystem or "")
        for version in versions:
            # A deterministic sample of about 1 in 300 listed versions (~500 pairs).
            if sample and zlib.crc32(f"{record_id}:{version}".encode()) % 300:
                continue
            prepared = prepare_version(eco, version)
            out[(record_id, version)] = (
                None if prepared.key is None else compiled.contains(prepared)
            )
    return out


def test_ranges_agree_with_listed_versions_on_a_sample(survey: Survey) -> None:
    results = verdicts(survey, sample=True)
    comparable = {k: v for k, v in results.items() if v is not None}
    disagree = {k for k, v in comparable.items() if not v}
    print(
        f"\nsample: {len(results)} listed versions, {len(comparable)} comparable, "
        f"{sum(comparable.values())} agree, unexplained: {sorted(disagree - KNOWN_INCONSISTENT)}"
    )
    assert len(comparable) >= 300
    assert {record_id.split("-")[0] for record_id, _ in comparable} == {"PYSEC", "MAL"}
    assert disagree <= KNOWN_INCONSISTENT


@pytest.mark.slow
def test_ranges_agree_with_every_listed_version(survey: Survey) -> None:
    results = verdicts(survey, sample=False)
    counts = Counter(results.values())
    total = counts[True] + counts[False]
    print(
        f"\nall listed versions: {total} comparable, {counts[True]} agree "
        f"({counts[True] / total:.4%}), {counts[None]} not valid in their ecosystem"
    )
    assert {k for k, v in results.items() if v is False} == KNOWN_INCONSISTENT
    # Listed versions that are not PEP 440 ("0.7.10p1", "2.0.0-final") can only
    # match through the versions list; there are about a hundred.
    assert counts[None] < 200


# --- well-known advisories ------------------------------------------------------------------


def test_flask_session_cookie_advisory(
    pypa_by_package: dict[tuple[str, str], list[Record]],
) -> None:
    pypi = ecosystems.get("pypi")
    candidates = pypa_by_package[("pypi", "flask")]
    ids = {f.id for f in findings_for_version(candidates, pypi, "Flask", "2.3.1")}
    assert "PYSEC-2023-62" in ids
    (finding,) = [f for f in findings_for_version(candidates, pypi, "flask", "2.3.1")]
    assert finding.aliases == ("CVE-2023-30861", "GHSA-m2qf-hxjv-5gpq")
    assert finding.severity == "unknown"  # PyPA records carry no rating
    assert finding.fixed_versions == ("2.2.5", "2.3.2")
    assert findings_for_version(candidates, pypi, "flask", "2.3.2") == []
    assert {f.id for f in findings_for_version(candidates, pypi, "flask", "2.2.4")} == {
        "PYSEC-2023-62"
    }
    assert findings_for_version(candidates, pypi, "flask", "2.2.5") == []


def test_flask_advisory_matches_by_ranges_alone(shared_data: Path) -> None:
    record = without_versions(load(shared_data, "PyPI-pypa.zip", "PYSEC-2023-62"))
    assert record_matches(record, "pypi", "flask", "2.3.1")
    assert not record_matches(record, "pypi", "flask", "2.3.2")


def test_lodash_4_17_11(shared_data: Path) -> None:
    npm = ecosystems.get("npm")
    records = [
        load(shared_data, "GHSA-npm.zip", "GHSA-jf85-cpcp-j695"),
        load(shared_data, "GHSA-npm.zip", "GHSA-p6mc-m468-83gw"),
    ]
    found = {f.id: f for f in findings_for_version(records, npm, "lodash", "4.17.11")}
    assert set(found) == {"GHSA-jf85-cpcp-j695", "GHSA-p6mc-m468-83gw"}
    prototype = found["GHSA-jf85-cpcp-j695"]
    assert (prototype.aliases, prototype.severity) == (("CVE-2019-10744",), "critical")
    assert prototype.cvss is not None and prototype.cvss.score == 9.1
    assert prototype.fixed_versions == ("4.17.12",)
    assert found["GHSA-p6mc-m468-83gw"].severity == "high"
    assert {f.id for f in findings_for_version(records, npm, "lodash", "4.17.12")} == {
        "GHSA-p6mc-m468-83gw"
    }
    assert findings_for_version(records, npm, "lodash", "4.17.21") == []
    # The lodash-es entry has its own fix.
    assert {f.id for f in findings_for_version(records, npm, "lodash-es", "4.17.13")} == {
        "GHSA-jf85-cpcp-j695",
        "GHSA-p6mc-m468-83gw",
    }


def test_log4shell(shared_data: Path) -> None:
    maven = ecosystems.get("maven")
    record = load(shared_data, "GHSA-Maven.zip", "GHSA-jfh8-c2jp-5v3q")
    name = "org.apache.logging.log4j:log4j-core"
    (finding,) = findings_for_version([record], maven, name, "2.14.1")
    assert finding.id == "GHSA-jfh8-c2jp-5v3q"
    assert finding.aliases == ("CVE-2021-44228",)
    assert finding.severity == "critical" and not finding.malicious
    assert finding.cvss is not None
    assert finding.cvss.as_dict() == {
        "version": "3.1",
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        "score": 10.0,
    }
    # Only the fix of the branch 2.14.1 is on (the matching entry) is offered.
    assert finding.fixed_versions == ("2.15.0",)
    expected = {"2.0": True, "2.3.1": False, "2.4": True, "2.12.2": False, "2.13.0": True}
    expected |= {"2.15.0": False, "2.16.0": False, "2.15.0-rc1": True}
    assert {v: bool(record_matches(record, maven, name, v)) for v in expected} == expected
    assert record_matches(record, maven, "org.apache.logging.log4j:log4j-api", "2.14.1") == []


def test_spring4shell_release_qualifier(shared_data: Path) -> None:
    record = load(shared_data, "GHSA-Maven.zip", "GHSA-36p3-wjmg-h94x")
    name = "org.springframework:spring-beans"
    assert record_matches(record, "maven", name, "5.2.19.RELEASE")
    assert not record_matches(record, "maven", name, "5.2.20.RELEASE")
    assert not record_matches(record, "maven", name, "5.2.20")
    assert record_matches(record, "maven", name, "5.3.17")
    assert not record_matches(record, "maven", name, "5.3.18")


def test_urllib3_out_of_order_events(shared_data: Path) -> None:
    record = without_versions(load(shared_data, "PyPI-pypa.zip", "PYSEC-2023-192"))
    expected = {"1.26.16": True, "1.26.17": False, "2.0.0": True, "2.0.5": True, "2.0.6": False}
    assert {v: bool(record_matches(record, "pypi", "urllib3", v)) for v in expected} == expected


@pytest.mark.parametrize(
    ("zip_name", "record_id", "eco", "name", "version"),
    [
        ("MAL-PyPI.zip", "MAL-2022-7436", "pypi", "requeests", "1.0.0"),  # typosquat of requests
        ("MAL-PyPI.zip", "MAL-2025-2925", "pypi", "0-8", "0.0.0.1"),  # versions list only
        ("MAL-npm.zip", "MAL-2021-1", "npm", "cxp-jquery", "99.1.0"),  # dependency confusion
        ("MAL-Maven.zip", "MAL-2025-2552", "maven", "io.github.leetcrunch:scribejava-core", "1.0"),
    ],
)
def test_malicious_packages(
    shared_data: Path, zip_name: str, record_id: str, eco: str, name: str, version: str
) -> None:
    record = load(shared_data, zip_name, record_id)
    ecosystem = ecosystems.get(eco)
    (finding,) = findings_for_version([record], ecosystem, name, version)
    assert finding.malicious
    assert finding.severity == "critical"
    assert finding.cvss is None
    assert record_id in finding.all_ids


def test_malicious_versions_list_matches_only_its_versions(shared_data: Path) -> None:
    record = load(shared_data, "MAL-PyPI.zip", "MAL-2025-2925")
    assert record_matches(record, "pypi", "0-8", "0.0.0.1")
    assert not record_matches(record, "pypi", "0-8", "0.0.0.2")


def test_a_real_withdrawn_record_never_matches(shared_data: Path) -> None:
    record = load(shared_data, "PyPI-pypa.zip", "PYSEC-2022-43059")
    assert record.is_withdrawn
    assert record_matches(record, "pypi", "aiohttp", "0.1") == []
    revived = msgspec.structs.replace(record, withdrawn=None)
    assert record_matches(revived, "pypi", "aiohttp", "0.1")


def test_compiled_records_match_a_version_as_the_records_do(
    pypa_by_package: dict[tuple[str, str], list[Record]],
) -> None:
    # The scans compile each candidate record once and match many versions against it
    # (the speed is bench/vulndb_bench.py's); the compiled form must say what the record says.
    candidates = pypa_by_package[("pypi", "django")]
    pypi = ecosystems.get("pypi")
    compiled = [compile_record(r) for r in candidates]
    assert len(candidates) > 100
    # Releases with advisories published after them, and one beyond every range.
    for version, affected in [("1.11.29", True), ("3.2.19", True), ("4.2.1", True), ("99.0", False)]:
        prepared = prepare_version(pypi, version)
        by_compiled = {
            record.id
            for record, c in zip(candidates, compiled, strict=True)
            if c.matching_entries(pypi, "django", prepared)
        }
        by_record = {
            record.id for record in candidates if record_matches(record, "pypi", "django", version)
        }
        assert by_compiled == by_record
        assert bool(by_compiled) == affected, version
