"""End to end in headless Chromium against a real `alignlab arena serve` process: sign in with an invite token, vote,
watch the leaderboard change; a model output holding a <script> payload shows as text and never runs.

Needs the Debian package ``chromium`` and the PyPI package ``playwright`` (never ``playwright install``); skips
cleanly without them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from alignlab.arena import add_annotator, import_runs, make_engine, migrate
from arena_fixtures import XSS, make_run

CHROMIUM = os.environ.get("ALIGNLAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium at {CHROMIUM}", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path):
    """A served arena with two models on one prompt (one answer is an XSS payload) and one annotator."""
    db = f"sqlite:///{tmp_path / 'arena.db'}"
    engine = make_engine(db)
    migrate(engine)
    import_runs(engine, [("alpha", make_run(tmp_path, "alpha", "m-alpha", {"p0": "A plain, helpful answer."})),
                         ("evil", make_run(tmp_path, "evil", "m-evil", {"p0": XSS}))])
    token = add_annotator(engine, "ann")
    engine.dispose()
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "alignlab.cli.main", "arena", "serve", "--db", db, "--port",
                             str(port), "--overlap", "0"], stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "ALIGNLAB_ARENA_ADMIN_TOKEN": "adm"})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"arena server did not start: {(tmp_path / 'server.log').read_text()}")
        time.sleep(0.1)
    yield base, token
    proc.terminate()
    proc.wait(timeout=10)


def test_sign_in_vote_leaderboard_and_escaping(server: tuple[str, str]) -> None:
    base, token = server
    seen: dict[str, Any] = {"dialogs": [], "errors": [], "external": []}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context()

        def route(r: Any) -> None:
            if r.request.url.startswith(base):
                r.continue_()
            else:  # the payload's <img src=x> or anything else off-site
                seen["external"].append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
        page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))

        page.goto(base + "/")
        page.fill("#token", token)
        page.click("button[type=submit]:has-text('Sign in')")
        page.wait_for_url(base + "/battle")
        texts = {side: page.inner_text(f"#response-{side}") for side in ("a", "b")}
        evil = "a" if "<script>" in texts["a"] else "b"
        assert texts[evil] == XSS  # the payload is shown verbatim, as text
        assert page.evaluate("window.__pwned") is None and page.locator("main script").count() == 0

        page.goto(base + "/leaderboard")
        assert page.locator("#n-votes-empty").is_visible()

        for votes in (1, 2):
            page.goto(base + "/battle")
            helpful = "b" if "<script>" in page.inner_text("#response-a") else "a"
            page.fill("#reason", "it answers the question")
            page.click(f"#vote-{helpful}")
            page.wait_for_selector("#saved")
            page.goto(base + "/leaderboard")
            assert page.inner_text("#n-votes") == str(votes)
            rows = page.locator("#leaderboard tbody tr")
            assert rows.nth(0).get_attribute("data-model") == "alpha"  # the model voted for leads
            assert page.inner_text("#leaderboard tr[data-model=alpha] td.battles") == str(votes)
        browser.close()
    assert seen["dialogs"] == [] and seen["errors"] == []
    assert seen["external"] == []
