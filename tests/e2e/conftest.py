"""Browser tests: the app served by a real server process on 127.0.0.1 (its own
SQLite database, migrated and seeded with the demo), driven by Playwright in
Debian's Chromium on a phone-sized screen, in Chinese.

`make test` installs Chromium (apt) and axe-core (npm, tests/e2e/package.json)
where it can. Where Chromium cannot be installed these tests are skipped
with a loud message. They run in the SQLite pass only: the server has its
own database either way, so a second run on PostgreSQL would repeat them.

Each journey saves a screenshot of every step under test-artifacts/e2e/
(not committed) so a person can look at them, and checks every page it
visits with axe-core: no serious or critical violation.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
TV = {"width": 1920, "height": 1080}


def _missing() -> str | None:
    if os.environ.get("TEST_DB") == "postgres":
        return "browser journeys run in the SQLite pass (the server has its own database)"
    if not Path(CHROMIUM).exists():
        return f"Chromium is not installed at {CHROMIUM} (apt install chromium fonts-noto-cjk)"
    if not AXE.exists():
        return f"axe-core is not installed at {AXE} (cd tests/e2e && npm ci)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("TEST_DB") != "postgres":
        warnings.warn(f"!!! BROWSER TESTS SKIPPED: {reason}", stacklevel=1)
        sys.stderr.write(f"\n!!! BROWSER TESTS SKIPPED: {reason}\n")
    marker = pytest.mark.skip(reason=reason)
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(marker)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The app under a real server process, on a fresh migrated and seeded database."""
    workdir = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{workdir / 'e2e.db'}",
        "SECRET_KEY": "e2e-secret-key",
        "RATELIMIT_ENABLED": "0",
        "FLASK_DEBUG": "0",
    }
    env.pop("REDIS_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(flask + command, env=env, cwd=ROOT, check=True, capture_output=True)
    port = _free_port()
    with open(workdir / "server.log", "w") as log:
        process = subprocess.Popen(
            flask + ["run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, process, workdir / "server.log")
            yield type("Server", (), {"url": url, "env": env, "log": workdir / "server.log"})
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_up(url: str, process, log_path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"the server did not start; see {log_path}") from None
            time.sleep(0.2)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


class Steps:
    """Screenshots of a journey's steps, numbered, and the checks every page gets."""

    def __init__(self, name: str):
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", name)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def shot(self, page, label: str, *, check: bool = True) -> Path:
        """Save a full-page screenshot; by default also check the page (axe, fonts)."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        if check:
            check_page(page, label)
        return path


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations of the given impact on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, not as an inline <script>
        # tag, which the site's Content-Security-Policy rightly blocks.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [v for v in result if v.get("impact") in impacts]


def check_page(page, label: str = "") -> None:
    """No serious or critical accessibility violation, and Chinese rendered in a CJK font."""
    found = axe_violations(page)
    assert not found, f"{label} ({page.url}): " + "; ".join(
        f"{v['id']}: {v['help']} — {[n['target'] for n in v['nodes'][:3]]}" for v in found
    )
    assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '邻里互助')"), "no CJK font: tofu"


@pytest.fixture
def steps(request) -> Steps:
    return Steps(request.node.name)


@pytest.fixture
def new_phone(browser, server):
    """A function: a fresh phone-sized browser context (no cookies) → its page."""
    contexts = []

    def make(**options):
        context = browser.new_context(
            viewport=PHONE, locale="zh-CN", base_url=server.url, device_scale_factor=1, **options
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def phone(new_phone):
    return new_phone()


@pytest.fixture
def tv(browser, server):
    context = browser.new_context(viewport=TV, locale="zh-CN", base_url=server.url)
    yield context.new_page()
    context.close()


def log_in(page, phone_number: str, password: str = "demo1234") -> None:
    """Log in through the real form."""
    page.goto("/auth/login")
    page.fill("input[name=phone]", phone_number)
    page.fill("input[name=password]", password)
    page.click("#submit")
    page.wait_for_load_state()
    assert "/auth/login" not in page.url, f"login failed for {phone_number}"
