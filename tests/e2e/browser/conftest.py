"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against the real server.

The server is uvicorn in a thread on a free loopback port, serving the test's container (its
database and its fixed clock). Each person in a scenario gets a browser context of their own, in a
browser started with a fresh temporary profile. Every page a test visits can be checked with
axe-core (from npm, installed under .cache/axe by `make setup`) and photographed at phone and
desktop width into docs/screenshots/.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from ordertrail.bootstrap import Container
from ordertrail.config import Settings
from ordertrail.entrypoints.web.app import create_app

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_DIR = ROOT / ".cache" / "axe"
AXE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
WAIT_MS = 10_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # launch() gives the browser a fresh temporary user-data directory, removed when it closes.
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("axe-core is missing and npm is not installed to fetch it (run `make setup`)")
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(AXE_DIR),
                "--no-audit",
                "--no-fund",
                "--silent",
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            timeout=300,
        )
    return AXE.read_text()


@pytest.fixture
def live_port() -> int:
    return _free_port()


@pytest.fixture
def settings(settings: Settings, live_port: int) -> Settings:
    """The shared settings, with links (sign-in e-mails) pointing at the live server."""
    return settings.model_copy(
        update={"base_url": f"http://127.0.0.1:{live_port}", "shop_name": "Sunny Market"}
    )


@pytest.fixture
def live_server(container: Container, live_port: int) -> Iterator[str]:
    config = uvicorn.Config(
        create_app(container),
        host="127.0.0.1",
        port=live_port,
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:  # readiness, not the passing of time: the server starts in ~0.1 s
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{live_port}"
    server.should_exit = True
    thread.join(timeout=15)


@dataclass
class Person:
    """One person's browser (context and tab), with the checks every visited page gets."""

    name: str
    context: Any
    page: Any
    base: str
    axe: str
    audited: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    csp_violations: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def audit(self, name: str) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the page as it is now (WCAG 2.1 A/AA)."""
        # Evaluated through the DevTools protocol, so the page's CSP (no inline scripts) stays on.
        if not self.page.evaluate("typeof axe !== 'undefined'"):
            self.page.evaluate(self.axe)
        result = self.page.evaluate(
            """async () => {
                const r = await axe.run(document, {runOnly: {type: 'tag',
                    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
                return {passes: r.passes.length, violations: r.violations.map(v => ({id: v.id,
                    impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))};
            }"""
        )
        assert result["passes"] > 10, "axe-core checked next to nothing: is the page empty?"
        bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
        self.audited[name] = bad
        return bad

    def snap(self, name: str) -> None:
        """Check the page with axe at both widths and save phone and desktop screenshots."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            self.page.set_viewport_size(size)
            bad = self.audit(f"{name} ({label})")
            assert bad == [], json.dumps(bad, indent=2)
            height = self.page.evaluate("document.documentElement.scrollHeight")
            clip = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": min(height, 1800 if label == "phone" else 1400),
            }
            png = self.page.screenshot(full_page=True, clip=clip, animations="disabled", caret="hide")
            _save_small_png(png, SCREENSHOTS / f"{name}-{label}.png")
        self.page.set_viewport_size(PHONE)


def _save_small_png(png: bytes, path: Path) -> None:
    """A 64-colour palette PNG: text and flat colours stay crisp at a fraction of the size."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, optimize=True
    )


@pytest.fixture
def people(chromium: Any, live_server: str, axe_source: str) -> Iterator[Any]:
    """Make a person with a browser of their own: `people("buyer")`."""
    made: list[Person] = []

    def make(name: str, timezone_id: str = "UTC") -> Person:
        context = chromium.new_context(viewport=PHONE, locale="en-US", timezone_id=timezone_id)
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        person = Person(name, context, page, live_server, axe_source)
        page.on(
            "console",
            lambda m: person.csp_violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        made.append(person)
        return person

    yield make
    for person in made:
        person.context.close()
    for person in made:
        assert person.csp_violations == [], person.csp_violations


def sign_in_link(container: Container, email: str) -> str:
    """The link in the sign-in e-mail to this address, once the server has sent it (after its answer)."""
    folder = Path(container.settings.data_dir) / "mail"
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
            msg = message_from_bytes(path.read_bytes())
            if msg["To"] == email and "sign-in link" in (msg["Subject"] or ""):
                body = msg.get_payload(decode=True).decode()  # type: ignore[union-attr]
                match = re.search(r"http://\S+/login/\S+", body)
                assert match, body
                return match.group(0)
        time.sleep(0.05)
    raise AssertionError(f"no sign-in e-mail to {email}")
