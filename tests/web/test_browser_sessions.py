"""A session in a real browser (Debian's Chromium through Playwright): an administrator opens a
double-marking session, uploads a manifest with its files (one broken), follows each dossier,
assigns two assessors and finds the jury documents; screenshots in test-output/web."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import LiveServer
from tests.web.helpers import PASSWORD, SAMPLES
from tests.web.test_browser import CHROMIUM, browser, log_in, page, shot

__all__ = ["browser", "page"]  # the fixtures, shared with test_browser
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
from playwright.sync_api import Page  # noqa: E402  # test_browser skipped the module already if missing


def test_admin_runs_a_session_from_the_browser(live_server: LiveServer, page: Page, tmp_path: Path) -> None:
    pg = page
    acc = live_server.app.state.web.accounts
    acc.add_user("root", "admin", PASSWORD, "Admin")
    acc.add_user("claire", "assessor", PASSWORD, "Claire Petit")
    acc.add_user("marc", "assessor", PASSWORD, "Marc Lenoir")
    log_in(pg, live_server, "root")
    pg.click("nav >> text=Sessions")
    pg.fill("input[name=name]", "MDC juin 2027")
    pg.select_option("select[name=module]", "M2")
    pg.check("input[name=double_marking]")
    pg.click("button:has-text('Ouvrir la session')")
    pg.wait_for_url("**/sessions/*")

    good = SAMPLES / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
    broken = tmp_path / "abime.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF")
    manifest = tmp_path / "manifeste.csv"
    manifest.write_text(f"candidate,file\nAmélie Roux,{good.name}\nKarim Cassé,abime.pdf\n", encoding="utf-8")
    pg.set_input_files("input[name=manifest]", str(manifest))
    pg.set_input_files("input[name=files]", [str(good), str(broken)])
    pg.click("button:has-text('Lancer l’analyse du lot')")
    pg.wait_for_url("**/sessions/*")
    row = pg.locator("#members tr[data-candidate='Amélie Roux']")
    row.locator("text=à affecter").wait_for(timeout=120_000)  # the page refreshes itself while the batch runs
    broken_row = pg.locator("#members tr[data-candidate='Karim Cassé']")
    assert "erreur" in broken_row.inner_text()
    shot(pg, "30-session-batch-done")

    pg.check("#assign-form input[type=checkbox] >> nth=0")
    pg.check("#assign-form input[type=checkbox] >> nth=1")
    pg.click("#assign-form button")
    pg.wait_for_url("**/sessions/*")
    text = row.inner_text()
    assert "Claire Petit" in text and "Marc Lenoir" in text and "en évaluation" in text
    assert pg.locator("#exports a").count() == 4
    shot(pg, "31-session-assigned")
