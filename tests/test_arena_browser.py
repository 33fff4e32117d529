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
            # One prompt, one pair: the second vote is the same item, so it replaces the first in the counts.
            assert page.inner_text("#n-counted") == "1"
            assert page.inner_text("#leaderboard tr[data-model=alpha] td.battles") == "1"
        browser.close()
    assert seen["dialogs"] == [] and seen["errors"] == []
    assert seen["external"] == []


def _browser(p: Any) -> Any:
    return p.chromium.launch(executable_path=CHROMIUM, args=[
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])


def _sign_in(page: Any, base: str, token: str) -> None:
    page.goto(base + "/")
    page.fill("#token", token)
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_url(base + "/battle")


def test_revoked_annotator_and_copied_cookie_after_logout_are_refused(server: tuple[str, str], tmp_path: Path) -> None:
    """`alignlab arena revoke` ends a live browser session at once; signing out ends the session on the server, so
    a copy of the cookie in another browser stops working too."""
    base, token = server
    db = f"sqlite:///{tmp_path / 'arena.db'}"
    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        ann = browser.new_context()
        page = ann.new_page()
        _sign_in(page, base, token)
        cookie = next(c for c in ann.cookies() if c["name"] == "arena_session")
        thief = browser.new_context()
        thief.add_cookies([cookie])
        other = thief.new_page()
        other.goto(base + "/battle")
        assert other.url == base + "/battle"  # the copy works while the session lives
        page.click("button:has-text('Sign out')")
        page.wait_for_url(base + "/")
        other.goto(base + "/battle")
        assert other.url == base + "/"  # sent to sign in: the session is gone on the server

        _sign_in(page, base, token)
        out = subprocess.run([sys.executable, "-m", "alignlab.cli.main", "arena", "revoke", "ann", "--db", db],
                             capture_output=True, text=True, check=True)
        assert "1 open sessions ended" in out.stdout
        page.goto(base + "/battle")
        assert page.url == base + "/"
        page.goto(base + "/leaderboard")
        assert page.url == base + "/"
        page.fill("#token", token)
        page.click("button[type=submit]:has-text('Sign in')")
        assert page.locator("text=not valid").count() == 1  # the token no longer signs in
        browser.close()


def test_admin_session_ends_when_the_admin_token_changes(tmp_path: Path) -> None:
    """An admin signed in under one token is not an admin after the server restarts with another."""
    db = f"sqlite:///{tmp_path / 'arena.db'}"
    engine = make_engine(db)
    migrate(engine)
    engine.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"

    def serve(admin_token: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "alignlab.cli.main", "arena", "serve", "--db", db, "--port",
                                 str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                env={**os.environ, "ALIGNLAB_ARENA_ADMIN_TOKEN": admin_token})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return proc
            except httpx.HTTPError:
                time.sleep(0.1)
        proc.kill()
        pytest.fail("arena server did not start")

    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_context().new_page()
        proc = serve("first-token")
        try:
            page.goto(base + "/admin")
            page.fill("#token", "first-token")
            page.click("button[type=submit]")
            page.wait_for_selector("#progress")  # the admin page
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        proc = serve("rotated-token")
        try:
            page.goto(base + "/admin")
            assert page.locator("#progress").count() == 0 and page.locator("#token").count() == 1
            response = page.goto(base + "/admin/export")
            assert response is not None and response.status == 401
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        browser.close()
