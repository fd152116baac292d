"""Bad requests of every class get a clear 400 naming the field, and nothing is stored.

Each class is generated (hypothesis or a table) and sent over HTTP to the real
app: integer parameters, token references, URL fields, control characters,
duplicate JSON keys, and spellings of a path that must not escape the rate
limits, the metrics' route label or the security headers.
"""

from __future__ import annotations

import json
import string
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from foss_registry.api.params import MAX_LIMIT, MAX_OFFSET
from foss_registry.config import Settings
from tests.conftest import make_client
from tests.functional.api.test_packages import assert_problem
from tests.functional.conftest import create_token, key, submit

FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

#: Every route taking integer query parameters, and their bounds.
INTEGER_ROUTES = [
    ("/api/v1/packages", {"limit": (1, MAX_LIMIT), "offset": (0, MAX_OFFSET)}),
    ("/api/v1/packages?search=fla", {"limit": (1, MAX_LIMIT), "offset": (0, MAX_OFFSET)}),
    ("/api/v1/reviews", {"limit": (1, MAX_LIMIT), "offset": (0, MAX_OFFSET)}),
    ("/api/v1/licenses", {"limit": (1, MAX_LIMIT), "offset": (0, MAX_OFFSET)}),
    ("/api/v1/jobs/failed", {"limit": (1, MAX_LIMIT), "offset": (0, MAX_OFFSET)}),
    (
        "/api/v1/security/scans/flask?ecosystem=pypi",
        {"history_limit": (1, MAX_LIMIT), "history_offset": (0, MAX_OFFSET)},
    ),
    ("/api/v1/index/blocked", {"limit": (1, MAX_LIMIT), "offset": (0, MAX_OFFSET)}),
]
# Digits of other scripts: Arabic-Indic, fullwidth, Devanagari, superscripts, circled.
OTHER_DIGITS = "٠١٦۳०५０１９²³①⑥𝟘𝟙"


def _not_ascii_integers() -> st.SearchStrategy[str]:
    """Spellings a lax parser reads as an integer, but that are not ASCII digits."""
    ascii_int = st.integers(min_value=1, max_value=999).map(str)
    return st.one_of(
        st.text(st.sampled_from(OTHER_DIGITS), min_size=1, max_size=4),
        st.builds(
            lambda a, b: f"{a}{b}", ascii_int, st.text(st.sampled_from(OTHER_DIGITS), min_size=1)
        ),
        ascii_int.map(lambda v: f"{v[0]}e{len(v) - 1}"),  # 1e3
        ascii_int.map(lambda v: f"{v}.0"),
        ascii_int.map(lambda v: f"+{v}"),
        ascii_int.map(lambda v: f"0{v}"),
        ascii_int.map(lambda v: f" {v}"),
        ascii_int.map(lambda v: f"{v}_0"),
        ascii_int.map(lambda v: hex(int(v))),
        st.sampled_from(["", "-", "1.", ".5", "NaN", "inf", "1e-0", "true"]),
    )


def _out_of_range(low: int, high: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(min_value=high + 1, max_value=10**40).map(str),
        st.integers(max_value=low - 1, min_value=-(10**30)).map(str),
    )


def test_integer_parameters_are_ascii_digits_within_their_bounds(
    settings: Settings, engine: Engine, tokens: dict[str, str]
) -> None:
    admin = key(tokens["admin"])
    with make_client(settings, engine) as client:
        assert submit(client, tokens["submitter"]).status_code == 201

        @FUZZ
        @given(
            route=st.sampled_from(INTEGER_ROUTES),
            data=st.data(),
        )
        def check(route: tuple[str, dict[str, tuple[int, int]]], data: Any) -> None:
            path, bounds = route
            name = data.draw(st.sampled_from(sorted(bounds)))
            low, high = bounds[name]
            bad = data.draw(st.one_of(_not_ascii_integers(), _out_of_range(low, high)))
            good = data.draw(st.integers(min_value=low, max_value=high))
            separator = "&" if "?" in path else "?"
            refused = client.get(path, params={name: bad}, headers=admin)
            body = assert_problem(refused, 400, "invalid_input")
            assert [e["field"] for e in body["errors"]] == [name], body
            accepted = client.get(f"{path}{separator}{name}={good}", headers=admin)
            assert accepted.status_code == 200, accepted.text

        check()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("limit=3684&offset=-5", {"limit": "must be in 1-1,000", "offset": "must be an integer"}),
        (
            "limit=0&offset=1000000001",
            {"limit": "must be in 1-1,000", "offset": "must be in 0-1,000,000,000"},
        ),
        ("offset=2&limit=1e3&offset=" + "9" * 50, {"limit": "must be an integer", "offset": "must be in"}),
    ],
)
def test_every_bad_integer_parameter_is_named_in_one_answer(
    settings: Settings, engine: Engine, tokens: dict[str, str], query: str, expected: dict[str, str]
) -> None:
    with make_client(settings, engine) as client:
        for path in ("/api/v1/packages", "/api/v1/index/blocked"):
            refused = client.get(f"{path}?{query}", headers=key(tokens["admin"]))
            body = assert_problem(refused, 400, "invalid_input")
            fields = {e["field"]: e["message"] for e in body["errors"]}
            assert set(fields) == set(expected), body
            for name, message in expected.items():
                assert fields[name].startswith(message), body
                assert name in body["detail"]


def test_token_ids_are_ascii_digits_and_names_are_never_digits_alone(
    settings: Settings, engine: Engine, tokens: dict[str, str]
) -> None:
    admin = key(tokens["admin"])
    victims = [create_token(engine, f"victim{n}", "submitter") for n in range(8)]
    assert victims
    with make_client(settings, engine) as client:
        ids = {t["name"]: t["id"] for t in client.get("/api/v1/tokens", headers=admin).json()}

        @FUZZ
        @given(
            st.one_of(
                st.text(st.sampled_from(OTHER_DIGITS), min_size=1, max_size=3),
                st.integers(min_value=2**63, max_value=10**30).map(str),
                st.sampled_from(["0", "00", "\uff19", "²", "①", "٦"]),
            )
        )
        def check(reference: str) -> None:
            response = client.delete(f"/api/v1/tokens/{reference}", headers=admin)
            assert response.status_code in (400, 404), response.text
            assert_problem(response, response.status_code)

        check()
        # Nothing was revoked by a look-alike of its id.
        listed = client.get("/api/v1/tokens", headers=admin).json()
        assert all(t["revoked_at"] is None for t in listed)
        # An id in ASCII digits revokes that token; a name revokes by name.
        revoked = client.delete(f"/api/v1/tokens/{ids['victim3']}", headers=admin)
        assert revoked.status_code == 200 and revoked.json()["name"] == "victim3"
        by_name = client.delete("/api/v1/tokens/victim4", headers=admin)
        assert by_name.status_code == 200 and by_name.json()["id"] == ids["victim4"]
        # A name of digits alone would be read as an id: refused when created.
        for name in ("6", "0042", "123456789"):
            created = client.post(
                "/api/v1/tokens", json={"name": name, "role": "submitter"}, headers=admin
            )
            assert_problem(created, 400, "invalid_name")


def _bad_urls() -> st.SearchStrategy[str]:
    host = st.text(string.ascii_lowercase, min_size=1, max_size=8).map(lambda h: f"{h}.org")
    return st.one_of(
        st.sampled_from(
            [
                "http://[::1",
                "http://[::1]]",
                "https://[zz::1]/",
                "http://[1.2.3]/",
                "http://host:99999/",
                "http://host:port/",
                "http://host:-1/",
                "http://",
                "https:///path",
                "http://user@/",
                "ftp://example.org/",
                "javascript:alert(1)",
                "//example.org/x",
                "example.org",
                "mailto:a@example.org",
                "http://exa mple.org/",
                "http://example.org/\x00",
                "http://exa<mple>.org/",
                "file:///etc/passwd",
                "",
            ]
        ),
        host.map(lambda h: f"http://{h}:{'9' * 7}/"),
        host.map(lambda h: f"http://[{h}]/"),
        st.builds(
            lambda h, c: f"https://{h}/{c}",
            host,
            st.sampled_from(["\n", "\r", "\t", "\x1b", "\u202e", " "]),
        ),
    )


def test_url_fields_take_only_valid_http_urls(
    settings: Settings, engine: Engine, tokens: dict[str, str]
) -> None:
    with make_client(settings, engine) as client:
        counter = iter(range(10**6))

        @FUZZ
        @given(field=st.sampled_from(["homepage", "repository"]), url=_bad_urls())
        def check(field: str, url: str) -> None:
            response = submit(
                client, tokens["submitter"], version=f"1.{next(counter)}", **{field: url}
            )
            body = assert_problem(response, 400)
            assert field in [e["field"] for e in body["errors"]], body

        check()
        good = submit(
            client,
            tokens["submitter"],
            homepage="http://[::1]:8080/x",
            repository="https://例え.テスト/repo",
        )
        assert good.status_code == 201, good.text
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM package_versions")).scalar() == 1


CONTROL_CHARACTERS = [chr(c) for c in range(0x20)] + ["\x7f", "\x85", "\u2028", "\u202e", "\u2066"]


def test_control_characters_and_duplicate_keys_are_refused_with_the_field_named(
    settings: Settings, engine: Engine, tokens: dict[str, str]
) -> None:
    submitter, reviewer = key(tokens["submitter"]), key(tokens["reviewer"])
    with make_client(settings, engine) as client:
        counter = iter(range(10**6))

        @FUZZ
        @given(
            field=st.sampled_from(["name", "version", "ecosystem", "license", "submitted_by"]),
            char=st.sampled_from(CONTROL_CHARACTERS),
            where=st.sampled_from(["end", "start", "middle"]),
        )
        def one_line_fields(field: str, char: str, where: str) -> None:
            body = {
                "name": "flask",
                "version": f"2.{next(counter)}",
                "ecosystem": "pypi",
                "license": "MIT",
                "submitted_by": "ci",
            }
            value = body[field]
            body[field] = {"end": value + char, "start": char + value}.get(
                where, value[:1] + char + value[1:]
            )
            response = client.post("/api/v1/packages", json=body, headers=submitter)
            problem = assert_problem(response, 400)
            assert field in [e["field"] for e in problem["errors"]], problem

        one_line_fields()

        # Free text keeps line breaks and tabs, and refuses the other control characters.
        kept = submit(client, tokens["submitter"], version="9.0", description="one\ntwo\r\n\tthree")
        assert kept.status_code == 201 and kept.json()["description"] == "one\ntwo\r\n\tthree"
        for char in ("\x00", "\x1b", "\x07", "\u202e"):
            response = submit(
                client, tokens["submitter"], version="9.1", justification=f"why{char}"
            )
            assert [e["field"] for e in assert_problem(response, 400)["errors"]] == [
                "justification"
            ]
        review = client.post(
            "/api/v1/reviews",
            json={
                "ecosystem": "pypi",
                "name": "flask",
                "version": "9.0\n",
                "decision": "approve",
            },
            headers=reviewer,
        )
        assert [e["field"] for e in assert_problem(review, 400)["errors"]] == ["version"]

        @FUZZ
        @given(
            field=st.sampled_from(["name", "version", "ecosystem", "license", "homepage"]),
            second=st.sampled_from(["first", "other"]),
        )
        def duplicate_keys(field: str, second: str) -> None:
            values = {
                "name": "flask",
                "version": f"3.{next(counter)}",
                "ecosystem": "pypi",
                "license": "MIT",
                "homepage": "https://example.org",
            }
            again = values[field] if second == "first" else values[field] + "x"
            raw = json.dumps(values)[:-1] + f", {json.dumps(field)}: {json.dumps(again)}}}"
            response = client.post(
                "/api/v1/packages",
                content=raw,
                headers=submitter | {"content-type": "application/json"},
            )
            problem = assert_problem(response, 400, "duplicate_field")
            assert [e["field"] for e in problem["errors"]] == [field]

        duplicate_keys()
        nested = client.post(
            "/api/v1/check",
            content=b'{"dependencies": [{"name": "a", "ecosystem": "pypi", "name": "b"}]}',
            headers={"content-type": "application/json"},
        )
        assert assert_problem(nested, 400, "duplicate_field")["errors"][0]["field"] == "name"
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT version FROM package_versions")).scalars().all()
    assert stored == ["9.0"]


# Dot segments are sent raw by the real-server test (HTTP clients resolve them).
PATH_SPELLINGS = ["/{p}", "//{p}", "///{p}", "/{p}/", "//{p}//", "////{p}"]


def raw_url(path: str) -> httpx.URL:
    """A URL whose path is sent exactly as written (a client would read ``//x`` as a host)."""
    return httpx.URL("http://testserver.local/").copy_with(raw_path=path.encode())


def test_no_spelling_of_a_path_escapes_the_limits_headers_or_route_label(
    settings: Settings, engine: Engine, tokens: dict[str, str]
) -> None:
    limited = settings.model_copy(
        update={
            "rate_limits_enabled": True,
            "rate_limit_per_ip": "1000/minute",
            "rate_limit_per_key": "3/minute",
        }
    )
    submitter = key(tokens["submitter"])
    with make_client(limited, engine) as client:

        @FUZZ
        @given(
            spelling=st.sampled_from(PATH_SPELLINGS),
            target=st.sampled_from(
                [
                    "api/v1/packages",
                    "api/v1/licenses/MIT",
                    "api/v1/packages/flask",
                    "api/v1/reviews",
                ]
            ),
        )
        def reads(spelling: str, target: str) -> None:
            path = spelling.format(p=target)
            response = client.get(raw_url(path))
            # Counted against the address like the canonical path, with the edge's headers.
            assert "ratelimit-remaining" in response.headers, (path, response.status_code)
            assert response.headers["x-content-type-options"] == "nosniff"

        reads()
        # Writes count against the key whatever the spelling: the fourth is refused.
        statuses = []
        for n, spelling in enumerate(["//{p}", "///{p}", "/{p}//", "///{p}/"]):
            path = spelling.format(p="api/v1/packages")
            response = client.post(
                raw_url(path),
                json={"name": "flask", "version": f"4.{n}", "ecosystem": "pypi"},
                headers=submitter,
            )
            assert "ratelimit-limit" in response.headers, path
            statuses.append(response.status_code)
        assert statuses == [201, 201, 201, 429]
        metrics = client.get("/metrics").text
    routes = {
        line.split('route="')[1].split('"')[0]
        for line in metrics.splitlines()
        if line.startswith("foss_http_requests_total{")
    }
    assert not any("//" in route or "/." in route for route in routes), routes
    assert "/api/v1/packages" in routes


def test_integer_path_parameters_are_ascii_digits_within_their_bounds(
    settings: Settings, engine: Engine, tokens: dict[str, str]
) -> None:
    admin = key(tokens["admin"])
    with make_client(settings, engine) as client:

        @FUZZ
        @given(
            st.one_of(
                st.text(st.sampled_from(OTHER_DIGITS), min_size=1, max_size=3),
                st.integers(min_value=2**31, max_value=10**30).map(str),
                st.integers(min_value=1, max_value=999).map(lambda v: f"0{v}"),
                st.just("0"),
            )
        )
        def check(rule_id: str) -> None:
            response = client.delete(f"/api/v1/approval-rules/{rule_id}", headers=admin)
            # 404 where the router finds no integer at all (superscripts), else 400 naming it;
            # never read as the id whose ASCII digits it resembles.
            body = assert_problem(response, response.status_code)
            assert response.status_code == 404 or [e["field"] for e in body["errors"]] == [
                "rule_id"
            ], body
            assert body["code"] != "rule_not_found", body

        check()
        assert client.delete("/api/v1/approval-rules/6", headers=admin).status_code == 404
