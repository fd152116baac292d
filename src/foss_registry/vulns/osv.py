"""Reading OSV advisory records: files, folders and osv.dev-style zip exports.

An OSV record describes one vulnerability (or one malicious release) and the
package versions it affects; the format is defined at ossf/osv-schema. This
module turns the bytes of such records into immutable :class:`Record` values,
one at a time, so that an importer can stream the ~34,000 records of the shared
zips without holding them in memory, report a bad record and carry on.

Sources accepted by :func:`iter_records`:

- a ``.json`` file (one record, or a JSON array of records);
- a ``.yaml``/``.yml`` file (the PyPA advisory-database layout);
- a folder, searched recursively for such files;
- a ``.zip`` file in the osv.dev export layout (``<Ecosystem>/all.zip``: one
  record per ``<id>.json`` entry), or any zip whose entries are such files.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
import yaml

from foss_registry import ecosystems
from foss_registry.ecosystems.base import Ecosystem
from foss_registry.errors import InvalidInputError

__all__ = [
    "RECORD_SUFFIXES",
    "Affected",
    "Event",
    "OSVRecordError",
    "OSVSourceError",
    "Package",
    "Range",
    "RawEntry",
    "Record",
    "Reference",
    "Severity",
    "affected_packages",
    "count_records",
    "decode_record",
    "ecosystem_for",
    "encode_record",
    "iter_raw_entries",
    "iter_records",
    "parse_record",
    "record_from_builtins",
]

#: File name endings that hold OSV records; everything else in a folder or zip is ignored.
RECORD_SUFFIXES: tuple[str, ...] = (".json", ".yaml", ".yml")

_TzDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


class Severity(msgspec.Struct, frozen=True):
    """One ``severity`` item: a scoring method and its score (a CVSS vector for CVSS types)."""

    type: str = ""
    score: str = ""


class Package(msgspec.Struct, frozen=True):
    """The package an ``affected`` entry is about, as OSV names it."""

    ecosystem: str = ""
    name: str = ""
    purl: str | None = None


class Event(msgspec.Struct, frozen=True, omit_defaults=True):
    """One event of a range; the schema allows exactly one of the four fields per event."""

    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None
    limit: str | None = None


class Range(msgspec.Struct, frozen=True, omit_defaults=True):
    """One ``affected[].ranges[]`` item: a type (ECOSYSTEM, SEMVER, GIT) and its events."""

    type: str = ""
    events: tuple[Event, ...] = ()
    repo: str | None = None
    database_specific: dict[str, Any] | None = None


class Affected(msgspec.Struct, frozen=True, omit_defaults=True):
    """One ``affected[]`` entry: a package, its affected ranges and/or explicit versions."""

    package: Package | None = None
    severity: tuple[Severity, ...] = ()
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    ecosystem_specific: dict[str, Any] | None = None
    database_specific: dict[str, Any] | None = None


class Reference(msgspec.Struct, frozen=True):
    """One reference link with its OSV type (ADVISORY, FIX, WEB, ...)."""

    type: str = ""
    url: str = ""


class Record(msgspec.Struct, frozen=True, omit_defaults=True):
    """One OSV record; unknown fields (credits, ...) are dropped when parsing."""

    id: str
    modified: _TzDatetime
    schema_version: str | None = None
    published: _TzDatetime | None = None
    withdrawn: _TzDatetime | None = None
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    upstream: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    severity: tuple[Severity, ...] = ()
    affected: tuple[Affected, ...] = ()
    references: tuple[Reference, ...] = ()
    database_specific: dict[str, Any] | None = None

    @property
    def is_withdrawn(self) -> bool:
        """True when the record has been withdrawn; a withdrawn record never matches."""
        return self.withdrawn is not None

    @property
    def all_ids(self) -> tuple[str, ...]:
        """The record's own id followed by its aliases."""
        return (self.id, *self.aliases)


class OSVRecordError(InvalidInputError):
    """One record could not be read; ``source`` names the file or zip entry it came from."""

    code = "invalid_osv_record"

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"Invalid OSV record in {source}: {reason}")
        self.source = source
        self.reason = reason


class OSVSourceError(InvalidInputError):
    """A whole source (missing path, unreadable zip) could not be read; nothing was imported."""

    code = "invalid_osv_source"


@dataclass(frozen=True, slots=True)
class RawEntry:
    """The undecoded bytes of one file or zip entry, with a label naming where it came from."""

    source: str
    data: bytes
    #: Why the entry could not be read (a corrupt zip member), else None.
    error: str | None = None

    @property
    def is_yaml(self) -> bool:
        """True when the entry's name says YAML rather than JSON."""
        return self.source.lower().endswith((".yaml", ".yml"))


# --- YAML ------------------------------------------------------------------------------

_YamlBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _OSVYamlLoader(_YamlBase):
    """A safe loader that keeps scalars that look like dates or numbers as strings.

    OSV fields are strings: ``fixed: 1.10`` must stay ``"1.10"`` (a float would
    read ``1.1``) and timestamps must keep their text for the schema's parser.
    """


_OSVYamlLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag
        not in (
            "tag:yaml.org,2002:timestamp",
            "tag:yaml.org,2002:float",
            "tag:yaml.org,2002:int",
        )
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# --- decoding --------------------------------------------------------------------------

_DECODER = msgspec.json.Decoder(Record)
_ENCODER = msgspec.json.Encoder()


def parse_record(
    data: bytes | str, *, source: str = "<bytes>", yaml_format: bool = False
) -> Record:
    """Parse one OSV record from JSON (or YAML) text.

    Raises :class:`OSVRecordError` naming ``source`` when the text is not a
    valid record. Use :func:`iter_records` for files that may hold several.
    """
    records = list(_parse_entry(RawEntry(source, _as_bytes(data)), yaml_format=yaml_format))
    if len(records) != 1:
        raise OSVRecordError(source, f"expected one record, found {len(records)}")
    return records[0]


def record_from_builtins(obj: Any, *, source: str = "<object>") -> Record:
    """Build a :class:`Record` from decoded JSON (dicts and lists), e.g. from a scanner's report."""
    if not isinstance(obj, dict):
        raise OSVRecordError(source, f"expected a JSON object, found {type(obj).__name__}")
    try:
        return _finish(msgspec.convert(obj, Record, strict=False), source)
    except msgspec.ValidationError:
        # Real-world records sometimes carry nulls or naive timestamps; tidy and retry once.
        pass
    try:
        return _finish(msgspec.convert(_tidy(obj), Record, strict=False), source)
    except msgspec.ValidationError as exc:
        raise OSVRecordError(source, str(exc)) from None


def encode_record(record: Record) -> bytes:
    """Serialise a record to compact JSON, e.g. to store it; :func:`decode_record` reverses it."""
    return _ENCODER.encode(record)


def decode_record(data: bytes | str) -> Record:
    """Decode JSON produced by :func:`encode_record` (or any valid OSV JSON record)."""
    return parse_record(data, source="<stored record>")


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _finish(record: Record, source: str) -> Record:
    if not record.id or not record.id.strip():
        raise OSVRecordError(source, "the record has an empty 'id'")
    return record


def _parse_entry(entry: RawEntry, *, yaml_format: bool | None = None) -> Iterator[Record]:
    is_yaml = entry.is_yaml if yaml_format is None else yaml_format
    if not is_yaml:
        try:
            yield _finish(_DECODER.decode(entry.data), entry.source)
            return
        except msgspec.ValidationError:
            pass
        except msgspec.DecodeError as exc:
            raise OSVRecordError(entry.source, f"not valid JSON ({exc})") from None
        # Slow path for anything the strict decoder refused: arrays of records,
        # nulls in place of empty lists, naive timestamps.
        try:
            obj: Any = msgspec.json.decode(entry.data)
        except msgspec.DecodeError as exc:  # pragma: no cover - the fast path saw it parse
            raise OSVRecordError(entry.source, f"not valid JSON ({exc})") from None
    else:
        try:
            obj = yaml.load(entry.data, Loader=_OSVYamlLoader)
        except yaml.YAMLError as exc:
            raise OSVRecordError(entry.source, f"not valid YAML ({exc})") from None
    if isinstance(obj, list):
        for index, item in enumerate(obj):
            yield record_from_builtins(item, source=f"{entry.source}[{index}]")
    else:
        yield record_from_builtins(obj, source=entry.source)


_LIST_FIELDS = ("aliases", "related", "upstream", "severity", "affected", "references")
_TIME_FIELDS = ("modified", "published", "withdrawn")


def _tidy(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop nulls where the schema wants lists or objects, and make naive timestamps UTC."""
    out = {k: v for k, v in obj.items() if v is not None}
    for key in _TIME_FIELDS:
        value = out.get(key)
        if isinstance(value, datetime) and value.tzinfo is None:
            out[key] = value.replace(tzinfo=UTC)
        elif isinstance(value, str) and value and not _has_tz(value):
            out[key] = value.strip() + "Z"
    for key in _LIST_FIELDS:
        if key in out and not isinstance(out[key], list):
            out[key] = [out[key]] if isinstance(out[key], dict | str) else []
    affected = out.get("affected")
    if isinstance(affected, list):
        out["affected"] = [_tidy_affected(a) for a in affected if isinstance(a, dict)]
    return out


def _tidy_affected(entry: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in entry.items() if v is not None}
    if isinstance(out.get("versions"), list):
        out["versions"] = [str(v) for v in out["versions"] if v is not None]
    ranges = out.get("ranges")
    if isinstance(ranges, list):
        out["ranges"] = [
            {
                **{k: v for k, v in r.items() if v is not None},
                "events": [
                    {k: str(v) for k, v in e.items() if v is not None}
                    for e in (r.get("events") or [])
                    if isinstance(e, dict)
                ],
            }
            for r in ranges
            if isinstance(r, dict)
        ]
    return out


def _has_tz(text: str) -> bool:
    tail = text.strip()[-6:]
    return tail.endswith(("Z", "z")) or "+" in tail or (len(tail) == 6 and tail[0] == "-")


# --- sources ---------------------------------------------------------------------------


def _is_record_name(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return bool(base) and not base.startswith(".") and base.lower().endswith(RECORD_SUFFIXES)


def _zip_names(archive: zipfile.ZipFile) -> list[str]:
    return [
        info.filename
        for info in archive.infolist()
        if not info.is_dir()
        and _is_record_name(info.filename)
        and not info.filename.startswith("__MACOSX/")
    ]


def _is_zip_name(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(".zip")


def _folder_files(folder: Path) -> list[Path]:
    """The record files and zips under ``folder`` (hidden ones left out), in a stable order."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and (_is_record_name(p.name) or _is_zip_name(p.name))
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise OSVSourceError(f"Cannot open the zip file {path}: {exc}") from None


def _zip_entries(path: Path) -> Iterator[RawEntry]:
    with _open_zip(path) as archive:
        for name in _zip_names(archive):
            try:
                data = archive.read(name)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                # One corrupt member should not hide the rest; report it as a bad record.
                yield RawEntry(f"{path}:{name}", b"", error=f"unreadable zip entry ({exc})")
                continue
            yield RawEntry(f"{path}:{name}", data)


def iter_raw_entries(path: str | Path) -> Iterator[RawEntry]:
    """Yield the bytes of every record file under ``path`` (file, folder or zip), in a stable order.

    A folder's zips are read like zips named on their own. Raises
    :class:`OSVSourceError` when ``path`` does not exist or a zip cannot be opened.
    """
    path = Path(path)
    if path.is_dir():
        for file in _folder_files(path):
            if _is_zip_name(file.name):
                yield from _zip_entries(file)
            else:
                yield RawEntry(str(file), _read(file))
    elif path.is_file() and zipfile.is_zipfile(path):
        yield from _zip_entries(path)
    elif path.is_file():
        yield RawEntry(str(path), _read(path))
    else:
        raise OSVSourceError(f"No OSV data at {path}: not a file, folder or zip.")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise OSVSourceError(f"Cannot read {path}: {exc}") from None


def iter_records(
    path: str | Path,
    *,
    on_error: Callable[[OSVRecordError], None] | None = None,
    max_details: int | None = None,
) -> Iterator[Record]:
    """Yield every OSV record under ``path`` (file, folder or zip), one at a time.

    A bad record raises :class:`OSVRecordError` (its ``source`` names the file or
    zip entry) unless ``on_error`` is given: then ``on_error`` is called with the
    error and reading continues with the next record. ``max_details`` truncates
    the ``details`` text (an ellipsis marks the cut) to bound what is stored.
    """
    for entry in iter_raw_entries(path):
        try:
            if entry.error is not None:
                raise OSVRecordError(entry.source, entry.error)
            if not entry.data.strip():
                raise OSVRecordError(entry.source, "the entry is empty")
            records: Iterable[Record] = list(_parse_entry(entry))
        except OSVRecordError as exc:
            if on_error is None:
                raise
            on_error(exc)
            continue
        for record in records:
            yield _truncate(record, max_details) if max_details is not None else record


def _truncate(record: Record, max_details: int) -> Record:
    if len(record.details) <= max_details:
        return record
    return msgspec.structs.replace(record, details=record.details[: max(0, max_details - 1)] + "…")


def count_records(path: str | Path) -> int:
    """Return how many record files ``path`` holds, cheaply (for a progress bar).

    For a zip this reads only its directory; a JSON file holding an array counts
    as one. A folder, or a zip, holding no record file at all is refused with
    :class:`OSVSourceError`: there is nothing to import.
    """
    path = Path(path)
    if path.is_dir():
        count = 0
        for file in _folder_files(path):
            if _is_zip_name(file.name):
                with _open_zip(file) as archive:
                    count += len(_zip_names(archive))
            else:
                count += 1
        if not count:
            raise OSVSourceError(
                f"Nothing to import in the folder {path}: it holds no OSV record files "
                f"({', '.join(RECORD_SUFFIXES)}) and no zips of them."
            )
        return count
    if path.is_file() and zipfile.is_zipfile(path):
        with _open_zip(path) as archive:
            count = len(_zip_names(archive))
        if not count:
            raise OSVSourceError(
                f"Nothing to import in the zip file {path}: it holds no OSV record files "
                f"({', '.join(RECORD_SUFFIXES)})."
            )
        return count
    if path.is_file():
        return 1
    raise OSVSourceError(f"No OSV data at {path}: not a file, folder or zip.")


# --- indexing --------------------------------------------------------------------------

_ECOSYSTEM_CACHE: dict[str, Ecosystem | None] = {}


def ecosystem_for(osv_name: str) -> Ecosystem | None:
    """The registry ecosystem an OSV ``package.ecosystem`` string names, or None (cached)."""
    try:
        return _ECOSYSTEM_CACHE[osv_name]
    except KeyError:
        eco = ecosystems.by_osv_name(osv_name)
        _ECOSYSTEM_CACHE[osv_name] = eco
        return eco


def affected_packages(record: Record) -> frozenset[tuple[str, str]]:
    """Return the (ecosystem API name, normalised package name) pairs the record is about.

    Used to index records in the database. Ecosystems the registry does not
    support are skipped, and so are names the ecosystem rejects as invalid:
    such a package can never be submitted, so the pair could never be looked up.
    """
    pairs: set[tuple[str, str]] = set()
    for entry in record.affected:
        if entry.package is None:
            continue
        eco = ecosystem_for(entry.package.ecosystem)
        if eco is None:
            continue
        with contextlib.suppress(InvalidInputError):
            pairs.add((eco.name, eco.normalize_name(entry.package.name)))
    return frozenset(pairs)
