"""``GET /api/v1/packages?search=`` against a brute-force reference of the search contract.

A seeded, deterministic catalogue (about 160 names, mostly PyPI plus some npm,
1-4 versions each, some approved or rejected) is submitted over HTTP once per
backend. For each term the expected answer is computed here in plain Python
from the documented contract, never from the implementation:

- with ``t = q.strip().lower()``: a term shorter than three characters matches
  names whose ``lower(normalized_name)`` is or starts with ``t``; a longer one matches when
  ``lower(normalized_name)`` contains ``t``, or when the description has every
  word of ``t`` (words: maximal runs of letters and digits, compared without
  case or accents; a term without words matches by name only);
- order: exact name, then name prefix, then the rest; ties by normalised name
  (byte order), ecosystem, version highest first, newest submission first;
- ``total`` counts every match; ``limit``/``offset`` page over the ordered
  list; ``ecosystem=`` and ``status=`` restrict the matches.

Every term is compared page by page (limit 7 until the pages run out, then one
limit-1000 page), with and without the ecosystem and status filters; another
check pages the same searches at several page sizes. The main catalogue's
descriptions use only separators that SQLite's and PostgreSQL's tokenizers
both split on (spaces, commas, hyphens, brackets, sentence punctuation);
separators inside words (dots, slashes, underscores) and letters beyond ASCII
have their own few versions and terms, in words no other description uses.

On SQLite a search of several words keeps the counts of its word set once its
rarest word is common; here every set is kept (the threshold is lowered), so
the pages compare both the first count, made the long way, and the kept ones.
It reads the names of a page a few at first (32), then more: here two, so
that the pages of this small catalogue read on as a large catalogue's do.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import pytest
from packaging.version import Version
from sqlalchemy import Engine, text

from foss_registry import search_index
from foss_registry.config import Settings
from foss_registry.db import make_engine
from foss_registry.packages import name_terms, search, search_postgres, word_sets
from tests.conftest import BACKENDS, empty_database, make_client
from tests.functional.conftest import create_token, key, submit

# All of this module's tests share one seeded database per backend and process.
pytestmark = pytest.mark.xdist_group("search_semantics")

SEED = 20240611
MAX_LIMIT = 1000
PAGE = 7

# Name syllables. "cli" never appears in descriptions, "parser" and friends
# never in names, so some terms match by name only and some by description only.
SYLLABLES = ("json", "rest", "http", "kalo", "zen", "cli", "sql", "py")
DESCRIPTION_SYLLABLES = tuple(s for s in SYLLABLES if s != "cli")
FILLERS = (
    "client",
    "tool",
    "fast",
    "parser",
    "engine",
    "for",
    "the",
    "async",
    "v2",
    "py3",
    "http2",
)
# Word separators both backends' tokenizers agree on.
SEPARATORS = (" ", " ", " ", ", ", "-", " (", ") ", "; ", ": ", "! ", ". ")

PYPI_FIXED = (
    "json",
    "kalo",
    "rest",
    "zen",
    "py",
    "kalokalo-x",
    "json-rest",
    "jsonrest",
    "Kalo_Zen",
    "rest.json",
    "http-kalo-json",
    "json-tool",
    "Py.Kalo",
)
NPM_FIXED = (
    "@scope/json-tool",
    "@kalo/rest",
    "JSONStream",
    "jsonstream",
    "zen---cli",
    "json",
    "json-tool",
    "json-rest",
    "kalo.js",
    "rest_cli",
)
PYPI_VERSIONS = (
    "0.1",
    "0.9",
    "0.10",
    "1.0",
    "1.0.post1",
    "1.0rc1",
    "1.0a2",
    "1.1.dev3",
    "1.2",
    "1.9.1",
    "1.10",
    "2.0",
    "2.0b1",
    "10.0",
    "1!0.5",
    "1.0+local.7",
)
NPM_VERSIONS = (
    "0.1.0",
    "0.9.0",
    "0.10.0",
    "1.0.0",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.2.3",
    "2.0.0",
    "10.0.0",
)

# Descriptions with separators inside words, in words found nowhere else in the
# catalogue (so they leave the main matrix alone); one PyPI version each.
SEPARATOR_ENTRIES = {
    "sep-a": "Bindings for node.js",
    "sep-b": "The gamma.delta engine",
    "sep-c": "A lorem/ipsum adapter",
    "sep-d": "An omega 2.0 server",
    "sep-e": "snake_case_words tool",
    "sep-f": "ipsum and gamma, apart",
    "sep-g": "Version 3.14 of tau",
}
# Letters beyond ASCII: accents are dropped ("für" is "fur"), "ß" and "ø" stay letters of
# their own; in words no other description uses.
ACCENT_ENTRIES = {
    "uni-a": "Bindings für Zürich",
    "uni-b": "Straße and smørrebrød, Zürich",
    "uni-c": "Crème brûlée for Zurich",
    "uni-d": "Ελληνικά και Zürich",
}
ACCENT_TERMS = [
    "für",
    "fur",
    "ZÜRICH",
    "zurich creme",
    "brulee crème",
    "straße",
    "strasse",
    "smørrebrød",
    "smorrebrod",
    "ελληνικά",
    "ΕΛΛΗΝΙΚΑ zurich",
]
SEPARATOR_TERMS = [
    "node",
    "gamma",
    "delta",
    "lorem",
    "ipsum",
    "gamma.delta",
    "lorem/ipsum",
    "omega 2",
    "omega 0",
    "case",
    "snake words",
    "tau 14",
]

_WORD = re.compile(r"[^\W_]+")
_PEP503 = re.compile(r"[-_.]+")


# --- The reference ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One submitted version as the reference sees it."""

    ecosystem: str
    spelling: str  # the name as this submission spelt it
    normalized: str
    version: str
    description: str | None
    seq: int = 0  # submission order
    shown_name: str = ""  # the name the registry shows: the first spelling submitted
    status: str = "pending"

    def row(self) -> tuple[str, str, str, str]:
        return (self.shown_name, self.version, self.ecosystem, self.status)


def normalize(ecosystem: str, name: str) -> str:
    """PEP 503 for PyPI; npm names are kept as they are."""
    return _PEP503.sub("-", name).lower() if ecosystem == "pypi" else name


def words(text_: str | None) -> set[str]:
    """The contract's words: runs of letters and digits, lower-cased, accents dropped."""
    if not text_:
        return set()
    plain = "".join(
        c for c in unicodedata.normalize("NFD", text_.lower()) if not unicodedata.combining(c)
    )
    return set(_WORD.findall(plain))


def semver_key(version: str) -> tuple[Any, ...]:
    """SemVer 2.0 precedence (no build metadata in the data)."""
    core, _, pre = version.partition("-")
    major, minor, patch = (int(p) for p in core.split("."))
    if not pre:
        return (major, minor, patch, 1, ())
    idents = tuple((0, int(i), "") if i.isdigit() else (1, 0, i) for i in pre.split("."))
    return (major, minor, patch, 0, idents)


def version_key(v: Entry) -> Any:
    return Version(v.version) if v.ecosystem == "pypi" else semver_key(v.version)


def matches(v: Entry, t: str) -> bool:
    if len(t) < 3:
        return v.normalized.lower().startswith(t)
    if t in v.normalized.lower():
        return True
    term_words = words(t)
    return bool(term_words) and term_words <= words(v.description)


def rank(v: Entry, t: str) -> int:
    # Names rank by how they match, without case (npm's JSONStream is "jsonstream").
    if v.normalized.lower() == t:
        return 0
    return 1 if v.normalized.lower().startswith(t) else 2


def expected(
    catalogue: list[Entry], q: str, filters: dict[str, str]
) -> list[tuple[str, str, str, str]]:
    """The contract's answer to a search, computed by brute force."""
    t = q.strip().lower()
    found = [
        v
        for v in catalogue
        if matches(v, t)
        and v.ecosystem == filters.get("ecosystem", v.ecosystem)
        and v.status == filters.get("status", v.status)
    ]
    # Highest version first, then newest submission first, within one package...
    found.sort(key=lambda v: v.seq, reverse=True)
    found.sort(key=lambda v: (v.ecosystem, version_key(v)), reverse=True)
    # ...and the stable sort keeps that order under rank, name and ecosystem.
    found.sort(key=lambda v: (rank(v, t), v.normalized.encode(), v.ecosystem))
    return [v.row() for v in found]


# --- The catalogue ---------------------------------------------------------------------------


def _styled(rng: random.Random, word: str) -> str:
    return rng.choice((word, word, word.upper(), word.capitalize()))


def _description(rng: random.Random) -> str | None:
    if rng.random() < 0.15:
        return None
    vocabulary = DESCRIPTION_SYLLABLES * 2 + FILLERS
    parts = []
    for _ in range(rng.randint(1, 5)):
        word = rng.choice(vocabulary)
        if rng.random() < 0.12:
            # Two syllables glued into one word: "jsonrest" is not the word "json".
            word += rng.choice(DESCRIPTION_SYLLABLES)
        parts.append(_styled(rng, word))
    out = parts[0]
    for part in parts[1:]:
        out += rng.choice(SEPARATORS) + part
    return out + rng.choice(("", "", ".", "!", " ?"))


def _random_name(rng: random.Random, ecosystem: str) -> str:
    syllables = [rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3)))]
    if rng.random() < 0.1:
        syllables.insert(0, syllables[0])  # the syllable twice, as in kalokalo-x
    joiners = ("", "-", "-", "_", ".") if ecosystem == "pypi" else ("", "-", "-", ".", "_")
    name = syllables[0]
    for s in syllables[1:]:
        name += rng.choice(joiners) + s
    if rng.random() < 0.2:
        name += rng.choice(("-x", "2", "-kit", "js"))
    if ecosystem == "pypi":
        return "".join(rng.choice((c, c, c.upper())) for c in name) if rng.random() < 0.2 else name
    return name


def _respelt(rng: random.Random, name: str) -> str:
    """Another spelling of a PyPI name with the same PEP 503 form."""
    swapped = re.sub(r"[-_.]", lambda _: rng.choice("-_."), name)
    return swapped.upper() if swapped == name else swapped


@cache
def catalogue_plan() -> tuple[Entry, ...]:
    """Every submission in submission order (statuses still pending)."""
    rng = random.Random(SEED)
    names: dict[tuple[str, str], list[str]] = {}  # (ecosystem, normalised) -> spellings
    wanted = [("pypi", n) for n in PYPI_FIXED] + [("npm", n) for n in NPM_FIXED]
    while len(wanted) < 165:
        ecosystem = "pypi" if rng.random() < 0.8 else "npm"
        wanted.append((ecosystem, _random_name(rng, ecosystem)))
    for ecosystem, name in wanted:
        names.setdefault((ecosystem, normalize(ecosystem, name)), [name])
    for (ecosystem, _), spellings in names.items():
        if ecosystem == "pypi" and rng.random() < 0.15:
            spellings.append(_respelt(rng, spellings[0]))
    plan = []
    for (ecosystem, normalized), spellings in sorted(names.items()):
        pool = PYPI_VERSIONS if ecosystem == "pypi" else NPM_VERSIONS
        base = _description(rng)
        for version in rng.sample(pool, rng.randint(1, 4)):
            roll = rng.random()
            description = base if roll < 0.6 else None if roll < 0.7 else _description(rng)
            plan.append(Entry(ecosystem, rng.choice(spellings), normalized, version, description))
    for name, description in (SEPARATOR_ENTRIES | ACCENT_ENTRIES).items():
        plan.append(Entry("pypi", name, name, "1.0", description))
    rng.shuffle(plan)
    shown: dict[tuple[str, str], str] = {}
    out = []
    for seq, v in enumerate(plan):
        name = shown.setdefault((v.ecosystem, v.normalized), v.spelling)
        out.append(replace(v, seq=seq, shown_name=name))
    return tuple(out)


@cache
def review_plan() -> tuple[tuple[int, str], ...]:
    """(submission index, decision): 32 approvals and 16 rejections, 10 of them npm."""
    rng = random.Random(SEED + 1)
    plan = catalogue_plan()
    npm = [i for i, v in enumerate(plan) if v.ecosystem == "npm"]
    chosen = rng.sample(npm, 10)
    rest = [i for i in range(len(plan)) if i not in chosen]
    chosen += rng.sample(rest, 38)
    return tuple((i, "approve" if n % 3 else "reject") for n, i in enumerate(chosen))


def reviewed_catalogue() -> list[Entry]:
    statuses = {i: "approved" if d == "approve" else "rejected" for i, d in review_plan()}
    return [replace(v, status=statuses.get(i, "pending")) for i, v in enumerate(catalogue_plan())]


# --- The seeded registry, once per backend ---------------------------------------------------


@dataclass
class Registry:
    client: Any
    catalogue: list[Entry]
    engine: Engine


def _database_url(request: pytest.FixtureRequest, tmp_path_factory: Any) -> str:
    """An empty migrated database, shared by the module's tests."""
    return empty_database(request, request.param, tmp_path_factory.mktemp("search"))


def _seed(client: Any, engine: Engine) -> list[Entry]:
    submitter = create_token(engine, "alice", "submitter")
    reviewer = create_token(engine, "rita", "reviewer")
    plan = catalogue_plan()
    for v in plan:
        fields: dict[str, Any] = {"name": v.spelling, "version": v.version}
        if v.description is not None:
            fields["description"] = v.description
        response = submit(client, submitter, ecosystem=v.ecosystem, **fields)
        assert response.status_code == 201, (v, response.text)
    for i, decision in review_plan():
        v = plan[i]
        body = {"ecosystem": v.ecosystem, "name": v.spelling, "version": v.version}
        body |= {"decision": decision, "comment": "seeded review"}
        response = client.post("/api/v1/reviews", json=body, headers=key(reviewer))
        assert response.status_code == 201, (v, response.text)
    return reviewed_catalogue()


@pytest.fixture(scope="module", params=BACKENDS)
def registry(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[Registry]:
    """The catalogue submitted over HTTP to a fresh database of each backend."""
    url = _database_url(request, tmp_path_factory)
    engine = make_engine(url)
    settings = Settings(database_url=url, auth_enabled=True, rate_limits_enabled=False)
    kept_from = (
        search_index.KEPT_SETS_FROM,
        search_postgres.KEPT_TERMS_FROM,
        name_terms.KEPT_TERMS_FROM,
    )
    reads = search.FIRST_NAMES, search.FIRST_CHUNK
    kept_names = word_sets.MAX_KEPT_NAMES
    # Every word set asked for is kept (SQLite), as the common ones are in a large catalogue.
    search_index.KEPT_SETS_FROM = 1
    # PostgreSQL keeps the names of a term inside four names or more ("json", "cli",
    # "kalok"), and reads the others from their suffixes ("jsonstream", "kalokalo-x").
    search_postgres.KEPT_TERMS_FROM = 4
    # SQLite keeps the counts of a term inside the names of eight versions or more, and
    # sums the names of the others.
    name_terms.KEPT_TERMS_FROM = 8
    # SQLite reads the names of a page a few first, then more: here a few means two,
    # so that small pages read more as large ones do in a large catalogue.
    search.FIRST_NAMES = search.FIRST_CHUNK = 2
    # SQLite keeps the names of a word set that three names or fewer have (and pages
    # them); it walks the rarest word's names of the others.
    word_sets.MAX_KEPT_NAMES = 3
    try:
        with make_client(settings, engine) as client:
            yield Registry(client, _seed(client, engine), engine)
            word_sets.wait()
            name_terms.wait()
    finally:
        (
            search_index.KEPT_SETS_FROM,
            search_postgres.KEPT_TERMS_FROM,
            name_terms.KEPT_TERMS_FROM,
        ) = kept_from
        search.FIRST_NAMES, search.FIRST_CHUNK = reads
        word_sets.MAX_KEPT_NAMES = kept_names
        engine.dispose()


# --- Asking the API --------------------------------------------------------------------------


def fetch(client: Any, q: str, filters: dict[str, str], limit: int, offset: int) -> dict[str, Any]:
    params: dict[str, Any] = {"search": q, "limit": limit, "offset": offset} | filters
    response = client.get("/api/v1/packages", params=params)
    assert response.status_code == 200, (params, response.text)
    body = response.json()
    assert (body["limit"], body["offset"]) == (limit, offset), body
    return body


def rows(page: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(p["name"], p["version"], p["ecosystem"], p["status"]) for p in page["packages"]]


def paged(client: Any, q: str, filters: dict[str, str], size: int, expected_total: int) -> Any:
    """Every page at one size until an empty or short page; returns (rows, totals seen)."""
    got: list[tuple[str, str, str, str]] = []
    totals = set()
    for offset in range(0, expected_total + 3 * size, size):
        page = fetch(client, q, filters, size, offset)
        totals.add(page["total"])
        got += rows(page)
        if len(page["packages"]) < size:
            break
    return got, totals


def explain(q: str, filters: dict[str, str], want: list[Any], got: list[Any]) -> str:
    """A readable account of how two ordered answers differ."""
    missing = [r for r in want if r not in got]
    unexpected = [r for r in got if r not in want]
    lines = [f"search={q!r} {filters}: expected {len(want)} rows, got {len(got)}"]
    if missing:
        lines.append(f"  missing ({len(missing)}): {missing[:8]}")
    if unexpected:
        lines.append(f"  unexpected ({len(unexpected)}): {unexpected[:8]}")
    repeated = sorted({r for r in got if got.count(r) > 1})
    if repeated:
        lines.append(f"  repeated ({len(repeated)}): {repeated[:8]}")
    if not missing and not unexpected:
        pairs = enumerate(zip(want, got, strict=False))
        first = next((i for i, (a, b) in pairs if a != b), min(len(want), len(got)))
        lines.append(f"  same rows, order differs from index {first}:")
        lines.append(f"    expected {want[first : first + 4]}")
        lines.append(f"    got      {got[first : first + 4]}")
    return "\n".join(lines)


# --- The checks ------------------------------------------------------------------------------

TERMS = [
    # single words in both names and descriptions
    "json",
    "kalo",
    "rest",
    "zen",
    "http",
    # a word only in descriptions; a syllable only in names
    "parser",
    "client",
    "cli",
    # words with digits; "http" must not match the word "http2" (nor "json" "jsonrest")
    "http2",
    "py3",
    # exact full names, incl. npm's case-sensitive and scoped names
    "kalokalo-x",
    "json-rest",
    "jsonrest",
    "kalo-zen",
    "jsonstream",
    "JSONStream",
    "@scope/json-tool",
    "zen---cli",
    # name prefixes
    "kalok",
    "jso",
    "@kalo",
    # case and surrounding blanks are ignored
    "JSON",
    "  Kalo ",
    # several words, in either order, or joined by punctuation; common words ("for", "the")
    "json rest",
    "rest json",
    "Client, REST & json!",
    "for the",
    "the client for",
    "tool fast async parser",
    "zen json",
    "Json.Rest",
    "json_rest",
    "Kalo_Zen",
    # shorter than three characters: name prefix only
    "js",
    "z",
    "py",
    "@s",
    "J",
    "v2",  # a description word, but short terms only match name prefixes
    # no term: the filters alone
    "",
    # nothing matches; punctuation only; LIKE wildcards are not wildcards
    "zzzqqq",
    "---",
    "--",
    "%json",
    "_son",
]
FILTERS = [
    {},
    {"ecosystem": "npm"},
    {"status": "approved"},
    {"ecosystem": "npm", "status": "approved"},
    {"ecosystem": "pypi", "status": "rejected"},
]


def _filter_id(filters: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in filters.items()) or "all"


@pytest.mark.parametrize("filters", FILTERS, ids=_filter_id)
@pytest.mark.parametrize("q", TERMS)
def test_search_pages_match_the_contract(
    registry: Registry, q: str, filters: dict[str, str]
) -> None:
    want = expected(registry.catalogue, q, filters)
    got, totals = paged(registry.client, q, filters, PAGE, len(want))
    assert got == want, explain(q, filters, want, got)
    assert totals == {len(want)}, f"search={q!r} {filters}: totals {totals}, expected {len(want)}"
    big = fetch(registry.client, q, filters, MAX_LIMIT, 0)
    assert rows(big) == want, explain(q, filters, want, rows(big))
    assert big["total"] == len(want)


@pytest.mark.parametrize("q", ["json", "kalo", "rest json", "for the", "parser", "js", "p", "---"])
def test_page_size_does_not_change_the_answer(registry: Registry, q: str) -> None:
    whole = rows(fetch(registry.client, q, {}, MAX_LIMIT, 0))
    assert whole == expected(registry.catalogue, q, {})
    for size in (1, 2, 5, 13, 100):
        got, totals = paged(registry.client, q, {}, size, len(whole))
        assert got == whole, f"search={q!r} limit={size}\n" + explain(q, {}, whole, got)
        assert totals == {len(whole)}, (q, size, totals)
    # An offset in the middle of a page boundary starts exactly there.
    if len(whole) > 10:
        assert rows(fetch(registry.client, q, {}, 4, 9)) == whole[9:13]
    # Past the end: no rows, but the total is still every match.
    beyond = fetch(registry.client, q, {}, 10, len(whole) + 50)
    assert beyond["packages"] == [] and beyond["total"] == len(whole)


@pytest.mark.parametrize("q", ["json", "kalo", "http", "cli", "rest", "zen"])
def test_a_term_kept_for_its_many_names_pages_as_before(registry: Registry, q: str) -> None:
    """Once kept, a term's names are read from its kept rows, per ecosystem too: same pages."""
    for filters in FILTERS:
        fetch(registry.client, q, filters, PAGE, 0)
    name_terms.wait()
    both = {"ecosystem": "npm", "status": "rejected"}
    for filters in [*FILTERS, {"ecosystem": "pypi"}, both]:
        want = expected(registry.catalogue, q, filters)
        got, totals = paged(registry.client, q, filters, PAGE, len(want))
        assert got == want, explain(q, filters, want, got)
        assert totals == {len(want)}, (q, filters, totals)


SEVERAL_WORDS = [q for q in TERMS if len(words(q)) > 1]


def test_word_sets_kept_with_and_without_their_names_page_alike(registry: Registry) -> None:
    """Once kept, a word set few names have is paged from its kept names, others walked: same pages."""
    for q in SEVERAL_WORDS:
        for filters in FILTERS:
            fetch(registry.client, q, filters, PAGE, 0)
    word_sets.wait()
    if registry.engine.dialect.name == "sqlite":
        with registry.engine.connect() as conn:
            kept = conn.execute(text("SELECT names FROM package_word_sets")).scalars().all()
        assert sorted(set(kept)) == [0, 1], kept
    for q in SEVERAL_WORDS:
        for filters in [*FILTERS, {"ecosystem": "pypi"}]:
            want = expected(registry.catalogue, q, filters)
            got, totals = paged(registry.client, q, filters, PAGE, len(want))
            assert got == want, explain(q, filters, want, got)
            assert totals == {len(want)}, (q, filters, totals)


def test_the_catalogue_exercises_every_case() -> None:
    """Guards the reference against a dull data set: each interesting case occurs."""
    catalogue = reviewed_catalogue()
    assert 300 <= len(catalogue) <= 600
    assert len({(v.ecosystem, v.normalized) for v in catalogue}) >= 120
    assert {v.status for v in catalogue} == {"pending", "approved", "rejected"}
    assert any(v.ecosystem == "npm" and v.status == "approved" for v in catalogue)
    assert any(v.spelling != v.shown_name for v in catalogue), "no package with two spellings"

    def by_name(v: Entry, t: str) -> bool:
        return t in v.normalized.lower()

    def by_words(v: Entry, t: str) -> bool:
        return words(t) <= words(v.description)

    for t in ("json", "kalo", "rest"):
        assert any(by_name(v, t) and not by_words(v, t) for v in catalogue), t
        assert any(by_words(v, t) and not by_name(v, t) for v in catalogue), t
        assert any(by_words(v, t) and by_name(v, t) for v in catalogue), t
        assert {rank(v, t) for v in catalogue if matches(v, t)} == {0, 1, 2}, t
        # A package only some of whose versions match (by description).
        groups: dict[tuple[str, str], set[bool]] = {}
        for v in catalogue:
            groups.setdefault((v.ecosystem, v.normalized), set()).add(matches(v, t))
        assert any(g == {True, False} for g in groups.values()), t
    assert not any(by_name(v, "parser") for v in catalogue)
    assert any(by_words(v, "parser") for v in catalogue)
    assert not any(by_words(v, "cli") for v in catalogue if v.description)
    assert any(v.description and "jsonrest" in words(v.description) for v in catalogue)
    assert any(
        "http2" in words(v.description) and "http" not in words(v.description)
        for v in catalogue
        if "http" not in v.normalized
    )
    # Words that are in a description but not next to each other, or not in the term's
    # order: "json rest", "json-rest" and "json_rest" must find these too.
    assert any(
        {"json", "rest"} <= words(v.description)
        and not re.search(r"json[^a-z0-9]+rest", (v.description or "").lower())
        for v in catalogue
    )
    assert any(v.normalized.count("kalo") == 2 for v in catalogue)
    # npm keeps capitals: JSONStream contains "json" only once lower-cased.
    assert any(
        v.normalized == "JSONStream" and "json" not in words(v.description) for v in catalogue
    )
    assert any(v.description is None for v in catalogue)
    assert expected(catalogue, "zzzqqq", {}) == []
    assert expected(catalogue, "---", {}) != []  # zen---cli
    # Each filter combination of the matrix has something to show for "json".
    for filters in FILTERS:
        assert expected(catalogue, "json", filters), filters


# --- Separators inside words -----------------------------------------------------------------


@pytest.mark.parametrize("q", SEPARATOR_TERMS)
def test_dots_slashes_and_underscores_inside_words_separate_them(
    registry: Registry, q: str
) -> None:
    """Words joined by "." "/" or "_" ("node.js", "2.0", "snake_case") are separate words."""
    want = expected(registry.catalogue, q, {})
    assert want and all(r[0] in SEPARATOR_ENTRIES for r in want), want
    page = fetch(registry.client, q, {}, MAX_LIMIT, 0)
    assert rows(page) == want, explain(q, {}, want, rows(page))
    assert page["total"] == len(want)


@pytest.mark.parametrize("q", ACCENT_TERMS)
def test_letters_beyond_ascii_are_compared_without_accents(registry: Registry, q: str) -> None:
    """ "für" finds "fur" and "Zürich" "zurich"; "ß" and "ø" are letters of their own."""
    want = expected(registry.catalogue, q, {})
    assert all(r[0] in ACCENT_ENTRIES for r in want), want
    whole = fetch(registry.client, q, {}, MAX_LIMIT, 0)
    assert rows(whole) == want, explain(q, {}, want, rows(whole))
    assert whole["total"] == len(want)
    page = fetch(registry.client, q, {"status": "pending"}, 2, 1)
    pending = [r for r in want if r[3] == "pending"]
    assert (rows(page), page["total"]) == (pending[1:3], len(pending))
