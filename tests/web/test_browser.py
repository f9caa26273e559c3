"""The workspace in a real browser (Debian's Chromium driven by Playwright), screenshots in test-output/web.

Assessor: log in, upload a sample, wait for the review, open a criterion and see its evidence
highlighted, change a level, decide the rest by keyboard, finalize, download the grid.
Candidate: upload a draft and see only the formative view. Trainer: the cohort view.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import LiveServer
from tests.web.helpers import OUTPUT, PASSWORD, SAMPLES

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
playwright_api = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Page  # noqa: E402  # after the importorskip guard


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
                "--lang=fr-FR",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR", accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def shot(pg: Page, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(OUTPUT / f"{name}.png"))


def log_in(pg: Page, server: LiveServer, username: str) -> None:
    pg.goto(server.url + "/login")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url("**/dossiers")


def test_assessor_reviews_a_dossier_end_to_end(live_server: LiveServer, page: Page) -> None:
    pg = page
    acc = live_server.app.state.web.accounts
    acc.add_user("alice", "assessor", PASSWORD, "Alice Martin")
    pg.goto(live_server.url + "/")
    pg.wait_for_url("**/login?next=/")
    shot(pg, "01-login")
    log_in(pg, live_server, "alice")
    shot(pg, "02-dossiers-empty")

    # upload a sample and watch the progress
    pg.click("text=Déposer un dossier")
    sample = SAMPLES / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
    pg.set_input_files("input[name=file]", str(sample))
    pg.select_option("select[name=module]", "M2")
    pg.fill("input[name=candidate_ref]", "Candidat 07")
    shot(pg, "03-upload")
    pg.click("button:has-text('Lancer l’analyse')")
    pg.wait_for_url("**/runs/*", timeout=120_000)
    pg.wait_for_selector(".crit.active")
    shot(pg, "04-review")

    # open a criterion that has evidence: its quotes are highlighted in the text, in view
    card = pg.locator(".crit:has(button.quote)").nth(1)
    crit_id = card.get_attribute("data-crit")
    card.locator(".crit-head").click()
    assert "active" in (card.get_attribute("class") or "")
    mark = pg.locator("#doctext mark.ev[data-ev='0']").first  # the first quote is the one brought into view
    mark.wait_for(state="visible")
    pg.wait_for_timeout(600)  # smooth scrolling
    assert mark.is_visible()
    box, pane = mark.bounding_box(), pg.locator("#doctext").bounding_box()
    assert box and pane and pane["y"] <= box["y"] <= pane["y"] + pane["height"], "evidence not scrolled into view"
    quote = card.locator("button.quote").first.get_attribute("data-quote") or ""
    marked = " ".join(pg.locator("#doctext mark.ev[data-ev='0']").all_inner_texts())
    assert " ".join(marked.split())[:40] == " ".join(quote.split())[:40]
    shot(pg, "05-evidence-highlighted")

    # change its level with the mouse, then with the keyboard
    card.locator("label.level:has(input[value='3'])").click()
    card.locator(".decision-badge:not(.hidden)").wait_for()
    assert card.locator(".decided-level").inner_text() == "3"
    pg.keyboard.press("1")
    pg.wait_for_function(
        "id => document.getElementById(id).querySelector('.decided-level').textContent === '1'", arg=f"crit-{crit_id}"
    )
    store = live_server.app.state.web.store
    run_id = pg.url.rsplit("/", 1)[-1].split("#")[0]
    assert store.decisions(run_id)[crit_id].level == 1
    assert [d.level for d in store.history(run_id, crit_id)] == [3, 1]

    # c: comment, Ctrl+Entrée saves it with the chosen level
    pg.keyboard.press("c")
    pg.keyboard.type("Preuve partielle : le mix est cité sans être argumenté.")
    pg.evaluate("() => { document.getElementById('status-line').textContent = ''; }")
    pg.keyboard.press("Control+Enter")
    pg.wait_for_function("id => document.getElementById('status-line').textContent.includes(id)", arg=crit_id)
    assert store.decisions(run_id)[crit_id].comment.startswith("Preuve partielle")
    assert store.decisions(run_id)[crit_id].level == 1

    # decide everything else from the keyboard: j to the first card, then a (accept) or 2
    cards = pg.locator(".crit")
    for i in range(cards.count()):
        c = cards.nth(i)
        if "decided" in (c.get_attribute("class") or ""):
            continue
        c.locator(".crit-head").click()
        pg.keyboard.press("a" if c.get_attribute("data-suggested") else "2")
        c.locator(".decision-badge:not(.hidden)").wait_for()
    shot(pg, "06-all-decided")

    # finalize (confirm dialog), the grid is locked
    pg.once("dialog", lambda d: d.accept())
    pg.keyboard.press("Escape")
    pg.locator("body").press("f")
    pg.wait_for_selector("#grid-state:has-text('Grille validée')")
    assert store.grid(run_id).locked
    assert pg.locator("fieldset[disabled]").count() == cards.count()
    shot(pg, "07-finalized")

    # download the grid
    with pg.expect_download() as dl:
        pg.click("#dl-grid")
    target = OUTPUT / "grille.docx"
    dl.value.save_as(str(target))
    assert dl.value.suggested_filename.endswith(".docx")
    with zipfile.ZipFile(target) as z:
        body = z.read("word/document.xml").decode("utf-8")
    assert "Alice Martin" in body


def test_candidate_self_check_shows_the_formative_view_only(live_server: LiveServer, page: Page) -> None:
    pg = page
    acc = live_server.app.state.web.accounts
    user = acc.add_user("carla", "candidate", PASSWORD, "Carla Candidate")
    acc.add_member(acc.add_group("Lyon 2025").id, user.id)
    acc.add_user("tom", "trainer", PASSWORD, "Tom Formateur")
    acc.add_member(acc.group_by_name("Lyon 2025").id, acc.user_by_name("tom").id)

    log_in(pg, live_server, "carla")
    shot(pg, "10-candidate-home")
    pg.click("a.button:has-text('Déposer un brouillon')")
    pg.set_input_files("input[name=file]", str(SAMPLES / "m1_agence_faible" / "m1_agence_faible.docx"))
    pg.select_option("select[name=module]", "M1")
    assert pg.locator("input[name=candidate_ref]").count() == 0
    pg.click("button:has-text('Lancer l’analyse')")
    pg.wait_for_url("**/runs/*", timeout=120_000)
    pg.wait_for_selector("#formative-notice")
    shot(pg, "11-candidate-feedback")
    # the page's own words: the dossier's sentences quoted in <q> may hold any word (« confiance »)
    text = pg.evaluate(
        "() => { const m = document.querySelector('main').cloneNode(true);"
        " m.querySelectorAll('q').forEach(q => q.remove()); return m.textContent; }"
    )
    assert "Ce qui manque" in text and "Pour progresser" in text
    for assessor_only in ("suggéré", "Niveau retenu", "Valider la grille", "confiance", "Satisfaisant", "Insuffisant"):
        assert assessor_only not in text, assessor_only
    assert pg.locator(".crit, .levels, #finalize-form").count() == 0

    # her trainer sees the cohort
    pg.click("text=Se déconnecter")
    pg.wait_for_url("**/login")
    pg.fill("input[name=username]", "tom")
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url("**/groups")
    pg.click("text=Lyon 2025")
    # her draft is listed, never with levels: she was told "aucune note"
    pg.wait_for_selector("text=Dossiers du groupe")
    assert "auto-évaluation" in (pg.locator("main").text_content() or "")
    assert pg.locator("table.heat, #most-missed").count() == 0
    shot(pg, "12-trainer-cohort")


def test_upload_errors_are_shown_in_french(live_server: LiveServer, page: Page, tmp_path: Path) -> None:
    pg = page
    live_server.app.state.web.accounts.add_user("alice", "assessor", PASSWORD)
    log_in(pg, live_server, "alice")
    pg.goto(live_server.url + "/upload")
    fake = tmp_path / "photo.pdf"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 200)
    pg.set_input_files("input[name=file]", str(fake))
    pg.click("button:has-text('Lancer l’analyse')")
    err = pg.locator("#upload-error")
    err.wait_for()
    assert "image PNG" in err.inner_text()
    shot(pg, "20-upload-error")

    # a file that passes the quick check but cannot be parsed fails in the job, in French
    broken = tmp_path / "abime.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF")
    pg.set_input_files("input[name=file]", str(broken))
    pg.click("button:has-text('Lancer l’analyse')")
    pg.wait_for_url("**/jobs/*")
    failed = pg.locator("#job-error")
    failed.wait_for(state="visible")
    assert "abime.pdf" in failed.inner_text()
    shot(pg, "21-job-failed")
    pg.goto(live_server.url + "/dossiers")
    assert "échec" in (pg.locator("main").text_content() or "")
    shot(pg, "22-dossiers-with-failed-job")
    pg.click("button:has-text('Retirer')")
    pg.wait_for_url("**/dossiers")
    assert "échec" not in (pg.locator("main").text_content() or "")
