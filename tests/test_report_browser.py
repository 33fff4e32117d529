"""report.html in headless Chromium with the network blocked: charts render, outputs stay text, the browser works.

Needs the Debian package ``chromium`` and the PyPI package ``playwright`` (never ``playwright install``: it
downloads a browser); skips cleanly without them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alignlab.report import build_report
from test_report import BREAKOUT_OUTPUT, SCRIPT_OUTPUT, make_run

CHROMIUM = os.environ.get("ALIGNLAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium at {CHROMIUM}", allow_module_level=True)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The fixture report opened once; every request other than the page itself is aborted and recorded."""
    report = build_report(make_run(tmp_path_factory.mktemp("browser") / "run"))
    url = report.resolve().as_uri()
    seen: dict[str, Any] = {"blocked": [], "dialogs": [], "errors": []}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def route(r: Any) -> None:
            if r.request.url == url:
                r.continue_()
            else:
                seen["blocked"].append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
        page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))
        page.goto(url)
        page.wait_for_selector("#sb-list article.sample")
        seen["page"] = page
        yield seen
        browser.close()


def test_nothing_is_fetched_and_no_script_errors(loaded: dict[str, Any]) -> None:
    assert loaded["blocked"] == []  # the page asks for nothing beyond itself
    assert loaded["errors"] == []  # no CSP violation, no JS error


def test_charts_render_with_size(loaded: dict[str, Any]) -> None:
    page = loaded["page"]
    charts = page.locator("svg.chart")
    assert charts.count() == 4
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50
    band = page.locator("path.ci-band").bounding_box()  # the radar's CI band is drawn, not just declared
    assert band and band["width"] > 10 and band["height"] > 10
    assert page.locator("svg.chart rect").count() > 10


def test_model_output_with_script_is_shown_as_text(loaded: dict[str, Any]) -> None:
    page = loaded["page"]
    shown = page.locator("pre.v", has_text=SCRIPT_OUTPUT)
    assert shown.count() >= 1 and shown.first.inner_text() == SCRIPT_OUTPUT
    assert page.locator("pre.v", has_text="</script><img src=x").first.text_content() == BREAKOUT_OUTPUT
    assert page.locator("img").count() == 0  # the breakout's <img> never became an element
    assert page.locator("main script").count() == 1  # only the JSON data block; no injected script element
    assert loaded["dialogs"] == []  # no alert() ran


def test_search_and_failure_filter(loaded: dict[str, Any]) -> None:
    page = loaded["page"]
    total = page.locator("#sb-count").inner_text()
    page.fill("#sb-search", "pick a lock")
    cards = page.locator("#sb-list article.sample")
    assert cards.count() == 10 and page.locator("#sb-count").inner_text().startswith("10 of")
    assert all("pick a lock" in cards.nth(i).inner_text() for i in range(cards.count()))
    page.fill("#sb-search", "")
    page.check("#sb-failures")
    n_fail = cards.count()
    assert n_fail > 0 and page.locator("#sb-list article.sample.fail").count() == n_fail
    page.select_option("#sb-suite", "instructions/basics")
    assert all(cards.nth(i).locator(".ssuite").inner_text() == "instructions/basics" for i in range(cards.count()))
    page.uncheck("#sb-failures")
    page.select_option("#sb-suite", "")
    assert page.locator("#sb-count").inner_text() == total
