"""The reviewer and requester pages in Chromium, against a real `foss serve` process.

Every page visited is checked with axe-core (no serious or critical violation)
and photographed at desktop and phone widths; no request may leave the
server's origin.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect
from sqlalchemy import Engine, update

from foss_registry.auth import service as auth
from foss_registry.auth import sessions
from foss_registry.auth.models import web_sessions
from foss_registry.db import read_connection, utcnow, write_transaction
from foss_registry.scans.service import IMPORT_RESCANS
from foss_registry.vulns import service as vulndb
from foss_registry.web.views import compatibility_in_words
from tests.functional.server.conftest import ServerProcess, start_server

LOG4J = "org.apache.logging.log4j:log4j-core"
LOG4SHELL = "GHSA-jfh8-c2jp-5v3q"
PACKAGES = [
    ("pypi", "flask", "2.3.0", "BSD-3-Clause", "A simple framework for building complex web applications."),
    ("pypi", "requests", "2.31.0", "Apache-2.0", "Python HTTP for Humans."),
    ("pypi", "django", "5.0.1", "BSD-3-Clause", "A high-level Python web framework."),
    ("npm", "@babel/core", "7.24.0", "MIT", "Babel compiler core."),
    ("maven", "org.apache.logging.log4j:log4j-core", "2.17.1", "Apache-2.0", "The Apache Log4j implementation."),
]


def submit_api(server: ServerProcess, token: str, ecosystem: str, name: str, version: str, license: str | None = None, description: str | None = None) -> dict[str, Any]:
    body = {"ecosystem": ecosystem, "name": name, "version": version, "license": license, "description": description}
    response = httpx.post(f"{server.url}/api/v1/packages", json=body, headers={"X-API-Key": token})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_browse_submit_review_and_sign_out_in_a_browser(pages: Any, tokens: dict[str, str], server: ServerProcess, engine: Engine) -> None:
    for ecosystem, name, version, license, description in PACKAGES:
        submit_api(server, tokens["admin"], ecosystem, name, version, license, description)

    # Browsing needs no sign-in: dashboard, catalogue, queue, a package.
    anonymous = pages()
    anonymous.goto("/")
    page = anonymous.page
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator(".tile", has_text="Waiting for review")).to_contain_text("5")
    anonymous.check("dashboard")

    anonymous.goto("/packages")
    expect(page.locator("#results tbody tr")).to_have_count(5)
    anonymous.check("catalogue")
    # Search as you type narrows the list and keeps the query in a shareable URL.
    page.get_by_label("Search").press_sequentially("reque", delay=30)
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("requests")
    expect(page).to_have_url(re.compile(r"/packages\?search=reque"))
    page.get_by_label("Ecosystem").select_option("npm")
    expect(page.locator("#results")).to_contain_text("0 versions")
    anonymous.goto("/packages?ecosystem=maven")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    page.get_by_role("link", name="org.apache.logging.log4j:log4j-core").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("log4j-core")
    expect(page.locator(".meta")).to_contain_text("pending")
    expect(page.get_by_text("pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    anonymous.check("package-anonymous")
    anonymous.goto("/packages/npm/@babel/core")
    expect(page.get_by_role("heading", level=1)).to_contain_text("@babel/core")
    assert anonymous.goto("/packages/pypi/no-such-package").status == 404
    expect(page.get_by_text("No package named 'no-such-package'")).to_be_visible()
    anonymous.check("not-found")
    anonymous.goto("/reviews")
    expect(page.locator("#queue tbody tr")).to_have_count(5)
    expect(page.locator("#queue tbody tr").first).to_contain_text("flask")
    anonymous.check("queue")

    # Submitting needs a sign-in first, and comes back to the form after it.
    submitter = pages()
    submitter.goto("/submit")
    page = submitter.page
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fsubmit"))
    submitter.check("login")
    page.get_by_label("API token").fill("foss_not-a-real-token")
    page.get_by_role("button", name="Sign in").click()
    error = page.locator("#token-error")
    expect(error).to_have_text(re.compile("The API token is not valid"))
    expect(page.get_by_label("API token")).to_have_attribute("aria-describedby", re.compile("token-error"))
    submitter.check("login-error")
    page.get_by_label("API token").fill(tokens["submitter"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/submit$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    submitter.check("submit")
    page.get_by_label("Ecosystem").select_option("pypi")
    page.get_by_label("Name").fill("httpx")
    page.get_by_label("Version").fill("0.27.0")
    page.get_by_label("License").fill("BSD-3-Clause")
    page.get_by_label("Justification").fill("The billing service needs an async HTTP client.")
    page.get_by_role("button", name="Submit for review").click()
    expect(page).to_have_url(re.compile(r"/packages/pypi/httpx\?version=0.27.0$"))
    expect(page.locator(".meta")).to_contain_text("pending")
    expect(page.get_by_text("The billing service needs an async HTTP client.")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    submitter.check("package-submitted")
    # A duplicate shows the version already there, not an error page.
    submitter.goto("/submit")
    page.get_by_label("Name").fill("HTTPX")
    page.get_by_label("Version").fill("0.27.0")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("status")).to_contain_text("has already been submitted")
    expect(page.get_by_role("link", name="Open httpx 0.27.0")).to_be_visible()
    # A bad value is a sentence next to its field.
    page.get_by_label("Version").fill("not a version!")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#version-error")).to_contain_text("not a valid")
    expect(page.get_by_label("Version")).to_have_attribute("aria-describedby", "version-error")
    submitter.check("submit-error")

    # A reviewer finds it in the queue with the keyboard and approves it with a comment.
    reviewer = pages()
    reviewer.sign_in(tokens["reviewer"])
    reviewer.goto("/reviews")
    page = reviewer.page
    names = page.locator("#queue tbody tr td:first-child a").all_inner_texts()
    assert names[-1] == "httpx"  # oldest first: the newest submission is last
    for _ in names:
        page.keyboard.press("j")
    expect(page.locator("#queue a.entry").last).to_be_focused()
    page.keyboard.press("k")
    expect(page.locator("#queue a.entry").nth(len(names) - 2)).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/packages/pypi/httpx\?version=0.27.0$"))
    reviewer.check("package-review")
    page.get_by_label("Comment").fill("Read the changelog; maintained and widely used.")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".meta")).to_contain_text("approved")
    expect(page.locator(".history")).to_contain_text("Approved by rita")
    expect(page.locator(".history")).to_contain_text("Read the changelog; maintained and widely used.")
    reviewer.check("package-approved")
    record = httpx.get(f"{server.url}/api/v1/packages/httpx").json()
    assert record["status"] == "approved" and record["approved_by"] == "rita"
    assert record["reviews"][-1]["comment"] == "Read the changelog; maintained and widely used."

    # A rejection without a comment is refused in words, next to the field.
    reviewer.goto("/packages/pypi/flask")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator("#comment-error")).to_contain_text("A rejection needs a comment")
    expect(page.get_by_label("Comment")).to_have_attribute("aria-describedby", re.compile("comment-error"))
    reviewer.check("decision-error")
    assert httpx.get(f"{server.url}/api/v1/packages/flask").json()["status"] == "pending"

    # The submitter sees the decision but no decision form.
    submitter.goto("/packages/pypi/httpx")
    expect(submitter.page.locator(".meta")).to_contain_text("approved")
    expect(submitter.page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(submitter.page.get_by_label("Comment")).to_have_count(0)

    # Signing out ends the session.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    reviewer.goto("/submit")
    expect(page).to_have_url(re.compile(r"/login"))

    # Revoking the token ends its sessions at their next request.
    with write_transaction(engine) as conn:
        auth.revoke_token(conn, "alice")
    submitter.goto("/")
    expect(submitter.page.get_by_role("status")).to_contain_text("revoked")
    expect(submitter.page.get_by_role("link", name="Sign in")).to_be_visible()
    submitter.goto("/submit")
    expect(submitter.page).to_have_url(re.compile(r"/login"))

    # The dashboard counts the decision once its figures are refreshed in the background.
    deadline = time.monotonic() + 30
    while True:
        anonymous.goto("/")
        summary = anonymous.page.locator("#chart-desc").text_content() or ""
        if summary.startswith("1 approved") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(anonymous.page.locator("#chart-desc")).to_contain_text("1 approved and 0 rejected")
    expect(anonymous.page.locator(".tile").first).to_contain_text("1 approved, 0 rejected")
    anonymous.check("dashboard-decided")

    for secret in tokens.values():
        assert secret not in server.log()


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_stored_script_is_text_and_forms_need_their_csrf_token(pages: Any, tokens: dict[str, str], server: ServerProcess) -> None:
    script = "<script>document.title='owned'</script><img src=x onerror=\"document.title='owned'\">"
    submit_api(server, tokens["submitter"], "npm", "evil-widget", "1.0.0", "MIT", script)
    viewer = pages()
    viewer.goto("/packages/npm/evil-widget")
    page = viewer.page
    expect(page.locator("dl.facts")).to_contain_text(script)
    assert "owned" not in page.title()
    assert page.locator("dl.facts img").count() == 0
    viewer.check("package-script-as-text")

    # A reviewer's session, used without the form's token.
    client = httpx.Client(base_url=server.url)
    login = client.get("/login")
    response = client.post("/login", data={"token": tokens["reviewer"], "csrf_token": _form_token(login.text)})
    assert response.status_code == 303
    page_html = client.get("/packages/npm/evil-widget").text
    csrf = _form_token(page_html)
    decision = {"ecosystem": "npm", "name": "evil-widget", "version": "1.0.0", "decision": "approve", "comment": "fine"}
    for sent in ({}, {"csrf_token": "forged"}, {"csrf_token": ""}):
        refused = client.post("/decide", data=decision | sent)
        assert refused.status_code == 403, refused.text
        assert "not sent from a page of this site" in refused.text
    refused = client.post("/decide", data=decision, headers={"X-CSRF-Token": "forged"})
    assert refused.status_code == 403
    assert httpx.get(f"{server.url}/api/v1/packages/evil-widget").json()["status"] == "pending"
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/submit").status_code == 200  # still signed in
    # The same session's token is accepted (as htmx sends it, in the header).
    done = client.post("/decide", data=decision, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 303
    assert httpx.get(f"{server.url}/api/v1/packages/evil-widget").json()["status"] == "approved"
    # Signing in without the sign-in form's token is refused too.
    fresh = httpx.Client(base_url=server.url)
    assert fresh.post("/login", data={"token": tokens["reviewer"]}).status_code == 403


def test_sessions_rotate_at_sign_in_carry_safe_cookies_and_limit_failures(tmp_path: Path, database_url: str, tokens: dict[str, str]) -> None:
    proc = start_server(tmp_path, {"FOSS_DATABASE_URL": database_url, "FOSS_RATE_LIMIT_SIGN_IN": "3/minute"})
    try:
        client = httpx.Client(base_url=proc.url)
        login = client.get("/login")
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        assert "Secure" not in cookie  # plain HTTP on loopback
        before = client.cookies["foss_session"]
        csrf = _form_token(login.text)
        signed_in = client.post("/login", data={"token": tokens["submitter"], "csrf_token": csrf, "next": "/submit"})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/submit"
        after = client.cookies["foss_session"]
        assert after != before  # a new session id at sign-in
        assert tokens["submitter"] not in signed_in.headers["set-cookie"]
        page = client.get("/submit")
        assert page.status_code == 200 and tokens["submitter"] not in page.text
        # The id held before signing in is worthless now.
        old = httpx.get(f"{proc.url}/submit", cookies={"foss_session": before})
        assert old.status_code == 303
        # An off-site "next" is not followed.
        again = httpx.Client(base_url=proc.url)
        form = again.get("/login")
        redirect = again.post("/login", data={"token": tokens["submitter"], "csrf_token": _form_token(form.text), "next": "//elsewhere.example/"})
        assert redirect.headers["location"] == "/"

        attacker = httpx.Client(base_url=proc.url)
        csrf = _form_token(attacker.get("/login").text)
        statuses = [
            attacker.post("/login", data={"token": f"foss_guess{i}", "csrf_token": csrf}).status_code
            for i in range(4)
        ]
        assert statuses == [403, 403, 403, 429]
        refused = attacker.post("/login", data={"token": tokens["reviewer"], "csrf_token": csrf})
        assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text
        assert tokens["submitter"] not in proc.log()
    finally:
        proc.stop()


def test_an_idle_session_ends(engine: Engine, tokens: dict[str, str]) -> None:
    with write_transaction(engine) as conn:
        secret, _session, _principal = sessions.sign_in(conn, tokens["reviewer"], {}, previous=None)
    with read_connection(engine) as conn:
        found = sessions.find(conn, secret, {}, idle=timedelta(minutes=30))
        assert isinstance(found, sessions.WebSession) and found.principal is not None
        assert found.principal.name == "rita"
    with write_transaction(engine) as conn:
        conn.execute(update(web_sessions).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    with read_connection(engine) as conn:
        ended = sessions.find(conn, secret, {}, idle=timedelta(minutes=30))
    assert isinstance(ended, sessions.EndedSession) and "without use" in ended.reason


def _wait_for_scan(server: ServerProcess, name: str, version: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        scan = httpx.get(f"{server.url}/api/v1/security/scans/{name}", params={"version": version}).json()
        if scan["status"] not in ("pending",):
            return dict(scan)
        time.sleep(0.2)
    raise AssertionError(f"the scan of {name} {version} did not finish")


def test_approving_past_open_findings_needs_the_box_naming_them(pages: Any, tokens: dict[str, str], server: ServerProcess, engine: Engine, shared_data: Path) -> None:
    vulndb.import_path(engine, shared_data / "osv" / "GHSA-Maven.zip", rescans=IMPORT_RESCANS)
    for version, outcome in (("2.14.1", "failed"), ("2.15.0", "passed")):
        submit_api(server, tokens["submitter"], "maven", LOG4J, version, "Apache-2.0", "Apache Log4j")
        assert _wait_for_scan(server, LOG4J, version)["status"] == outcome

    reviewer = pages()
    reviewer.sign_in(tokens["reviewer"])
    reviewer.goto(f"/packages/maven/{LOG4J}?version=2.14.1")
    page = reviewer.page
    findings = page.locator("table.findings")
    expect(findings).to_contain_text(LOG4SHELL)
    expect(findings).to_contain_text("critical")
    expect(findings).to_contain_text("2.15.0")  # the first fixed version
    box = page.get_by_label(re.compile("I have read these and approve past them"))
    expect(box).to_be_visible()
    expect(page.locator("label[for=acknowledge_findings]")).to_contain_text(LOG4SHELL)
    reviewer.check("package-open-findings")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#acknowledge_findings-error")).to_contain_text("Tick the box")
    expect(box).to_have_attribute("aria-describedby", "acknowledge_findings-error")
    assert httpx.get(f"{server.url}/api/v1/packages/{LOG4J}", params={"version": "2.14.1"}).json()["status"] == "pending"
    box.check()
    page.get_by_label("Comment").fill("Only the JMS appender is used; upgrade planned.")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".meta")).to_contain_text("approved")
    expect(page.locator(".history")).to_contain_text(f"acknowledged {LOG4SHELL}")
    (entry,) = httpx.get(f"{server.url}/api/v1/packages/{LOG4J}", params={"version": "2.14.1"}).json()["reviews"]
    assert entry["acknowledged"] == [LOG4SHELL]

    # The next version's page says what changed since the approved one.
    reviewer.goto(f"/packages/maven/{LOG4J}?version=2.15.0")
    changes = page.locator("section", has=page.get_by_role("heading", name=re.compile("Changes since 2.14.1")))
    expect(changes).to_contain_text("Same license")
    expect(changes).to_contain_text("No new findings")
    expect(page.get_by_label(re.compile("I have read these"))).to_have_count(0)
    reviewer.check("package-changes")


def test_license_compatibility_reads_as_a_sentence_in_each_case(pages: Any, tokens: dict[str, str], server: ServerProcess) -> None:
    # By the bundled OSADL matrix: MIT goes anywhere; AFL-2.0 nowhere forbidden, but
    # 31 licenses are unknown; GPL-3.0-only into its own license alone; MS-PL into its
    # own and unknown for the rest; LicenseRef-acme-1 is not in the matrix at all.
    expression = "MIT AND AFL-2.0 AND GPL-3.0-only AND MS-PL AND LicenseRef-acme-1"
    submit_api(server, tokens["submitter"], "pypi", "combined", "1.0", expression, "Code under five licenses.")
    viewer = pages()
    viewer.goto("/packages/pypi/combined")
    page = viewer.page
    table = page.locator("section", has=page.get_by_role("heading", name="License")).locator("table")

    def compatibility(term: str) -> Any:
        row = table.locator("tbody tr").filter(has=page.locator("td.mono", has_text=re.compile(f"^{re.escape(term)}$")))
        return row.locator("td").nth(3)

    expect(compatibility("MIT")).to_contain_text("may go into works under any of the 109 licenses of the matrix")
    expect(compatibility("AFL-2.0")).to_contain_text("may go into works under 78 licenses; unknown for the other 31")
    expect(compatibility("GPL-3.0-only")).to_contain_text("may go into works under 1 license, not into 106; unknown for the other 2")
    expect(compatibility("MS-PL")).to_contain_text("may go into works under 1 license; unknown for the other 108")
    expect(compatibility("LicenseRef-acme-1")).to_have_text("not covered by the matrix")
    expect(table).not_to_contain_text("not into 0")
    # The licenses behind the counts, the unknown ones too.
    compatibility("MS-PL").get_by_text("Show the licenses").click()
    expect(compatibility("MS-PL").locator("details")).to_contain_text("Compatible: MS-PL")
    expect(compatibility("MS-PL").locator("details")).to_contain_text("Incompatible: none")
    expect(compatibility("MS-PL").locator("details")).to_contain_text("Unknown: 0BSD, AFL-2.0")
    viewer.check("package-license-compatibility")


def test_license_compatibility_words_where_no_license_of_the_matrix_takes_the_code() -> None:
    # The matrix lets every license it covers into a work under itself, so these are
    # not on any page of the bundled data; the words must still read.
    assert compatibility_in_words(0, 100, 9) == "may not go into works under 100 licenses; unknown for the other 9"
    assert compatibility_in_words(0, 1, 108) == "may not go into works under 1 license; unknown for the other 108"
    assert compatibility_in_words(0, 109, 0) == "may go into works under none of the 109 licenses of the matrix"
    assert compatibility_in_words(0, 0, 109) == "unknown for all 109 licenses of the matrix"
