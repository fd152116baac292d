"""Pages in a real browser: a `foss serve` process, Chromium, axe-core, screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.functional.server.conftest import ServerProcess, server  # noqa: F401 (fixture)

#: Where the run leaves a screenshot of every page (desktop and phone widths).
SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the screenshots are."""
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"page screenshots (desktop and phone): {SCREENSHOTS}")


class Pages:
    """A browser context on one server that records every request it makes."""

    def __init__(self, browser: Any, target: ServerProcess) -> None:
        self.server = target
        self.context = browser.new_context(viewport=VIEWPORTS["desktop"], base_url=target.url)
        self.requests: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()

    def goto(self, path: str) -> Any:
        """Open a page of the server and wait until it has settled."""
        response = self.page.goto(self.server.url + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def sign_in(self, token: str) -> None:
        """Sign in through the form with an API token."""
        self.goto("/login")
        self.page.get_by_label("API token").fill(token)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state("networkidle")

    def check(self, name: str) -> None:
        """Run axe-core on the page in light and dark (no serious or critical violation)
        and save screenshots: desktop and phone, and desktop in dark."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self._axe(name)
        for label, viewport in VIEWPORTS.items():
            self.page.set_viewport_size(viewport)
            self.page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        self.page.set_viewport_size(VIEWPORTS["desktop"])
        self.page.emulate_media(color_scheme="dark")
        try:
            self._axe(f"{name} (dark)")
            self.page.screenshot(path=str(SCREENSHOTS / f"{name}-dark.png"), full_page=True)
        finally:
            self.page.emulate_media(color_scheme="light")

    def _axe(self, name: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(self.page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:3])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"accessibility violations on {name}:\n" + "\n".join(bad)

    def close(self) -> None:
        """Close the context, and check that no request left the server's origin."""
        self.context.close()
        foreign = [url for url in self.requests if not url.startswith(self.server.url + "/")]
        assert not foreign, f"requests left the server's origin: {foreign}"


@pytest.fixture
def pages(browser: Any, server: ServerProcess) -> Iterator[Any]:  # noqa: F811
    """Open a browser context on the test's server; returns a factory of further contexts."""
    opened: list[Pages] = []

    def open_pages() -> Pages:
        opened.append(Pages(browser, server))
        return opened[-1]

    yield open_pages
    for each in opened:
        each.close()


def screenshot_path(name: str) -> Path:
    """The file a page's desktop screenshot goes to."""
    return SCREENSHOTS / f"{name}-desktop.png"
