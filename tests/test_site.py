"""The static daily-brief site in a real headless browser: Debian's Chromium driven by Playwright.

`make test` installs the `chromium` package when it is missing; this test fails, not skips,
without it.
"""

import shutil
from datetime import date
from pathlib import Path

import pytest

from briefing.daily import load_topics, make_daily
from briefing.ingest.run import ingest
from briefing.output.files import write_daily
from briefing.pipeline import Components
from briefing.settings import Settings
from tests.conftest import FIXTURES

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Debian's chromium is not installed (apt-get install chromium; `make test` does it)")
    return path


@pytest.fixture
def site(fake_embedder, tmp_path) -> Path:
    settings = Settings()
    ingest([FIXTURES / "daily" / "items.jsonl"], Components(settings, embedder=fake_embedder))
    out = tmp_path / "briefs"
    topics = load_topics(FIXTURES / "daily" / "topics.toml")
    for day in (date(2024, 11, 5), date(2024, 11, 6)):
        daily = make_daily(day, topics, Components(settings, provider="extractive", embedder=fake_embedder), out_dir=out)
        write_daily(daily, out)
    return out


def test_site_renders_in_headless_chromium(site, tmp_path):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS,
                                             ignore_default_args=["--headless=old"])
        page = browser.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(site.joinpath("index.html").as_uri())
        assert page.title() == "Daily briefs"
        dates = page.eval_on_selector_all("li > a", "links => links.map(a => a.getAttribute('href'))")
        assert dates == ["2024-11-06.html", "2024-11-05.html"]
        for href in dates:
            page.click(f"a[href='{href}']")
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text().startswith("Daily brief")
            cites = page.eval_on_selector_all("a.cite", "links => links.map(a => a.getAttribute('href'))")
            assert cites, f"{href} has no citations"
            for target in set(cites):
                assert page.locator(target).count() == 1, f"{href}: citation {target} points nowhere"
            first = page.locator("a.cite").first
            first.hover()
            assert first.locator(".tip").is_visible() and "“" in first.locator(".tip").inner_text()
            page.screenshot(path=str(tmp_path / f"{href}.png"), full_page=True)
            page.go_back()
        browser.close()
    assert errors == []
