"""Reading OSV records from JSON, YAML, folders and zip exports."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from foss_registry.vulns import osv
from foss_registry.vulns.osv import OSVRecordError, OSVSourceError

from .builders import entry, make_record


def record_json(id: str = "PYSEC-2099-1", **fields: Any) -> dict[str, Any]:
    return {
        "id": id,
        "modified": "2024-03-01T10:00:00.123456Z",
        "published": "2024-02-01T00:00:00Z",
        "aliases": ["CVE-2099-0001"],
        "summary": "Bad thing",
        "details": "Long text",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "Demo", "purl": "pkg:pypi/demo"},
                "ranges": [
                    {"type": "GIT", "repo": "r", "events": [{"introduced": "0"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.10"}]},
                ],
                "versions": ["1.0", "1.9"],
                "ecosystem_specific": {"k": 1},
                "database_specific": {"d": 2},
            }
        ],
        "references": [{"type": "ADVISORY", "url": "https://example.org/a"}],
        "database_specific": {"severity": "HIGH"},
        "credits": [{"name": "dropped"}],
        **fields,
    }


def write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_parse_json_record_keeps_every_schema_field() -> None:
    record = osv.parse_record(json.dumps(record_json()).encode())
    assert record.id == "PYSEC-2099-1"
    assert record.modified == datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert record.published == datetime(2024, 2, 1, tzinfo=UTC)
    assert record.withdrawn is None and not record.is_withdrawn
    assert record.aliases == ("CVE-2099-0001",)
    assert record.all_ids == ("PYSEC-2099-1", "CVE-2099-0001")
    assert record.severity[0].type == "CVSS_V3"
    (aff,) = record.affected
    assert aff.package is not None and aff.package.purl == "pkg:pypi/demo"
    assert [r.type for r in aff.ranges] == ["GIT", "ECOSYSTEM"]
    assert aff.ranges[1].events[1].fixed == "1.10"
    assert aff.versions == ("1.0", "1.9")
    assert aff.ecosystem_specific == {"k": 1}
    assert aff.database_specific == {"d": 2}
    assert record.references[0].url == "https://example.org/a"
    assert record.database_specific == {"severity": "HIGH"}


def test_records_are_immutable() -> None:
    record = make_record([])
    with pytest.raises(AttributeError):
        record.id = "other"  # type: ignore[misc]


def test_yaml_keeps_versions_and_timestamps_as_text(tmp_path: Path) -> None:
    # Unquoted 1.10 would be the float 1.1 with a plain YAML loader.
    (tmp_path / "PYSEC-2099-2.yaml").write_text(
        "id: PYSEC-2099-2\n"
        "modified: 2023-07-24T14:58:05.562874Z\n"
        "published: 2023-07-01T00:00:00Z\n"
        "affected:\n"
        "- package: {ecosystem: PyPI, name: demo}\n"
        "  ranges:\n"
        "  - type: ECOSYSTEM\n"
        "    events:\n"
        "    - introduced: 0\n"
        "    - fixed: 1.10\n"
        "  versions: [1.0, 1.9]\n"
    )
    (record,) = osv.iter_records(tmp_path / "PYSEC-2099-2.yaml")
    assert record.modified == datetime(2023, 7, 24, 14, 58, 5, 562874, tzinfo=UTC)
    events = record.affected[0].ranges[0].events
    assert (events[0].introduced, events[1].fixed) == ("0", "1.10")
    assert record.affected[0].versions == ("1.0", "1.9")


def test_folder_is_read_recursively_in_a_stable_order(tmp_path: Path) -> None:
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.json").write_text(json.dumps(record_json("A-1")))
    (tmp_path / "b" / "deep" / "c.json").write_text(json.dumps(record_json("C-1")))
    (tmp_path / "b" / "x.yml").write_text("id: B-1\nmodified: 2024-01-01T00:00:00Z\n")
    (tmp_path / "notes.txt").write_text("not a record")
    (tmp_path / ".git" / "skip.json").write_text("{}")
    # Sorted by path: b/deep/c.json comes before b/x.yml.
    assert [r.id for r in osv.iter_records(tmp_path)] == ["A-1", "C-1", "B-1"]
    assert osv.count_records(tmp_path) == 3


def test_zip_in_the_osv_export_layout(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "all.zip",
        {f"X-{i}.json": json.dumps(record_json(f"X-{i}")).encode() for i in range(5)},
    )
    assert osv.count_records(path) == 5
    assert sorted(r.id for r in osv.iter_records(path)) == [f"X-{i}" for i in range(5)]


def test_folder_of_zips_reads_each_zip_and_its_own_records(tmp_path: Path) -> None:
    # The layout of a folder of osv.dev exports: `foss vulndb import FOLDER`.
    write_zip(tmp_path / "PyPI.zip", {"P-1.json": json.dumps(record_json("P-1")).encode()})
    write_zip(
        tmp_path / "npm.zip",
        {f"N-{i}.json": json.dumps(record_json(f"N-{i}")).encode() for i in range(2)},
    )
    (tmp_path / "loose.json").write_text(json.dumps(record_json("L-1")))
    (tmp_path / "README.md").write_text("# about these zips")
    assert osv.count_records(tmp_path) == 4
    assert sorted(r.id for r in osv.iter_records(tmp_path)) == ["L-1", "N-0", "N-1", "P-1"]


def test_a_folder_or_zip_with_nothing_importable_is_refused(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# nothing here")
    with pytest.raises(OSVSourceError, match="Nothing to import in the folder"):
        osv.count_records(tmp_path)
    empty_zip = write_zip(tmp_path / "empty.zip", {"notes.txt": b"no records"})
    with pytest.raises(OSVSourceError, match="Nothing to import in the zip file"):
        osv.count_records(empty_zip)


def test_zip_with_folders_and_yaml(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "repo.zip",
        {
            "vulns/demo/Y-1.yaml": b"id: Y-1\nmodified: 2024-01-01T00:00:00Z\n",
            "vulns/demo/README.md": b"# not a record",
            "vulns/other/Y-2.json": json.dumps(record_json("Y-2")).encode(),
        },
    )
    assert [r.id for r in osv.iter_records(path)] == ["Y-1", "Y-2"]


def test_json_array_of_records(tmp_path: Path) -> None:
    path = tmp_path / "all.json"
    path.write_text(json.dumps([record_json("A-1"), record_json("A-2")]))
    assert [r.id for r in osv.iter_records(path)] == ["A-1", "A-2"]


def test_iteration_is_lazy(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "all.zip",
        {"A.json": json.dumps(record_json("A")).encode(), "B.json": b"{broken"},
    )
    records = osv.iter_records(path)
    assert next(records).id == "A"  # the broken entry has not been read yet
    with pytest.raises(OSVRecordError):
        next(records)


def test_a_bad_record_names_its_zip_entry(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "all.zip",
        {"GOOD.json": json.dumps(record_json("G")).encode(), "BAD.json": b"{broken"},
    )
    with pytest.raises(OSVRecordError) as caught:
        list(osv.iter_records(path))
    assert caught.value.source == f"{path}:BAD.json"
    assert "BAD.json" in str(caught.value) and "not valid JSON" in caught.value.reason
    assert caught.value.code == "invalid_osv_record"


def test_on_error_reports_and_continues(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "all.zip",
        {
            "A.json": json.dumps(record_json("A")).encode(),
            "B.json": b"[1, 2",
            "C.json": json.dumps({"modified": "2024-01-01T00:00:00Z"}).encode(),  # no id
            "D.json": json.dumps({"id": "D", "modified": "yesterday"}).encode(),
            "E.json": json.dumps({"id": "", "modified": "2024-01-01T00:00:00Z"}).encode(),
            "F.json": b"",
            "G.json": json.dumps(record_json("G")).encode(),
        },
    )
    errors: list[OSVRecordError] = []
    ids = [r.id for r in osv.iter_records(path, on_error=errors.append)]
    assert ids == ["A", "G"]
    assert [e.source.rsplit(":", 1)[1] for e in errors] == [
        "B.json",
        "C.json",
        "D.json",
        "E.json",
        "F.json",
    ]
    assert "id" in errors[1].reason
    assert "modified" in errors[2].reason


def test_a_yaml_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(OSVRecordError, match=r"bad\.yaml"):
        list(osv.iter_records(path))


def test_missing_source_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(OSVSourceError):
        list(osv.iter_records(tmp_path / "missing.zip"))
    with pytest.raises(OSVSourceError):
        osv.count_records(tmp_path / "missing")


def test_nulls_and_naive_timestamps_are_tolerated() -> None:
    data = {
        "id": "N-1",
        "modified": "2024-01-01T00:00:00",
        "aliases": None,
        "withdrawn": None,
        "affected": [
            {"package": {"ecosystem": "npm", "name": "x"}, "ranges": None, "versions": None}
        ],
    }
    record = osv.parse_record(json.dumps(data))
    assert record.modified == datetime(2024, 1, 1, tzinfo=UTC)
    assert record.aliases == ()
    assert record.affected[0].ranges == ()


def test_max_details_truncates(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record_json(details="x" * 100)))
    (record,) = osv.iter_records(path, max_details=10)
    assert record.details == "x" * 9 + "…"
    (full,) = osv.iter_records(path)
    assert len(full.details) == 100


def test_encode_decode_round_trip() -> None:
    record = osv.parse_record(json.dumps(record_json()))
    assert osv.decode_record(osv.encode_record(record)) == record


def test_record_from_builtins_rejects_non_objects() -> None:
    with pytest.raises(OSVRecordError):
        osv.record_from_builtins(["not", "a", "record"])


def test_affected_packages_normalises_and_skips_unsupported() -> None:
    record = make_record(
        [
            entry([{"introduced": "0"}], ecosystem="PyPI", name="Zope.Interface"),
            entry([{"introduced": "0"}], ecosystem="PyPI", name="zope_interface"),
            entry([{"introduced": "0"}], ecosystem="npm", name="@Scope/Pkg"),
            entry([{"introduced": "0"}], ecosystem="Maven", name="org.example:demo"),
            entry([{"introduced": "0"}], ecosystem="crates.io", name="serde"),
            entry([{"introduced": "0"}], ecosystem="Maven:https://maven.example", name="a:b"),
            entry([{"introduced": "0"}], ecosystem="PyPI", name="not a valid name!"),
        ]
    )
    pairs = osv.affected_packages(record)
    assert ("pypi", "zope-interface") in pairs
    assert ("maven", "org.example:demo") in pairs
    assert {eco for eco, _ in pairs} == {"pypi", "npm", "maven"}
    assert len([p for p in pairs if p[0] == "pypi"]) == 1  # both spellings are one package
