"""Triage in the browser: the labelled confidence, the doubtful criteria first with `n`, the
confident suggestions accepted together from the summary list, the finalize refusal with links."""

from __future__ import annotations

import re

import pytest

from tests.web.helpers import OUTPUT
from tests.web.test_browser import CHROMIUM, browser
from tests.web.test_browser_layout import Site, open_as, sideways_overflow, site

__all__ = ["browser", "site"]  # the fixtures, shared with the other browser tests
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
from playwright.sync_api import Browser  # noqa: E402  # test_browser skipped the module already if missing

LABEL = re.compile(r"^Confiance\u00a0: \d{1,3}\u00a0% \(probabilité estimée que le niveau soit exact\)")


@pytest.mark.parametrize("width", [1366, 390])
def test_comment_bank_and_gaps_as_a_comment(browser: Browser, site: Site, width: int) -> None:
    """Runs before the triage test: it saves no decision, only a comment of Alice's bank."""
    pg = open_as(browser, site, "alice", width)
    pg.goto(site.url + "/runs/" + site.ids["run"])
    pg.wait_for_selector(".crit.active")
    card = pg.locator(".crit.active")
    crit = card.get_attribute("data-crit")
    assert "Le candidat lira ce commentaire" in card.locator(".comment-note").inner_text()
    pg.locator("body").press("g")  # the listed gaps become the comment
    ta = card.locator("textarea[name=comment]")
    gaps = card.locator("ul.missing li").all_inner_texts()
    assert ta.input_value().startswith("À compléter : ") and gaps[0].strip().rstrip(".") in ta.input_value()
    if width == 1366:
        ta.fill("Chiffrez vos indicateurs.")
        card.locator(".bank-save").click()
        pg.wait_for_function("() => document.getElementById('status-line').textContent.includes('type enregistré')")
        pg.reload()
        pg.wait_for_selector(".crit.active")
        card = pg.locator(f"#crit-{crit}".replace(".", "\\."))
        card.locator(".crit-head").click()
        card.locator(".bank-select").select_option(label="Chiffrez vos indicateurs.")
        assert card.locator("textarea[name=comment]").input_value() == "Chiffrez vos indicateurs."
    assert sideways_overflow(pg) == 0
    card.scroll_into_view_if_needed()
    pg.screenshot(path=str(OUTPUT / f"comment-bank-{width}.png"))
    pg.context.close()


def _mixed_confidence(site: Site, run_id: str) -> None:
    """Give the stored suggestions confidences on both sides of the threshold, as a real dossier
    read with the real model does (the web tests' hashing embedder gives every criterion the same
    confidence): this test is about the triage, not about the level model."""
    from pipeline.db.models import RunRow

    with site.app.state.web.store.session.begin() as s:
        row = s.get(RunRow, run_id)
        assert row is not None and row.review is not None
        review = dict(row.review)
        review["criteria"] = [
            {**c, "confidence": 0.55 + 0.02 * i if i % 3 else 0.93} for i, c in enumerate(review["criteria"])
        ]
        row.review = review


def test_doubtful_first_then_accept_the_confident_ones_together(browser: Browser, site: Site) -> None:
    run_id = site.ids["run"]
    _mixed_confidence(site, run_id)
    pg = open_as(browser, site, "alice", 1366)
    pg.goto(site.url + "/runs/" + run_id)
    pg.wait_for_selector(".crit.active")
    cards = pg.locator(".crit")
    total = cards.count()
    doubtful = {c.get_attribute("data-crit") for c in cards.all() if c.get_attribute("data-doubtful") == "true"}
    confident = {c.get_attribute("data-crit") for c in cards.all()} - doubtful
    assert doubtful and confident, "the sample should give both kinds"
    for text in pg.locator(".crit .conf").all_inner_texts():
        assert LABEL.match(text), text
    OUTPUT.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(OUTPUT / "triage-summary-1366.png"))

    # the page opens on the most doubtful criterion; n walks the other undecided doubtful ones,
    # lowest confidence first; each is decided by a key
    seen, confidences = [], []
    for _ in doubtful:
        active = pg.locator(".crit.active")
        seen.append(active.get_attribute("data-crit"))
        confidences.append(float(active.get_attribute("data-confidence") or 0))
        pg.keyboard.press("1")
        active.locator(".decision-badge:not(.hidden)").wait_for()
        pg.keyboard.press("n")
    assert set(seen) == doubtful and confidences == sorted(confidences)

    # finalize is refused while the confident ones are undecided: the refusal links to each of them
    pg.once("dialog", lambda d: d.accept())
    pg.keyboard.press("Escape")
    pg.locator("body").press("f")
    missing = pg.locator("#finalize-missing a")
    missing.first.wait_for()
    assert {a.inner_text() for a in missing.all()} == confident
    pg.screenshot(path=str(OUTPUT / "triage-finalize-refused-1366.png"))
    missing.first.click()
    assert pg.locator(".crit.active").get_attribute("data-crit") == missing.first.inner_text()

    # the summary list accepts the confident suggestions together: one decision each, to Alice's name
    assert pg.locator("#accept-form input[name=criterion_id]").count() == len(confident)
    pg.click("#accept-form button[type=submit]")
    pg.wait_for_selector("#triage")
    store = site.app.state.web.store
    decisions = store.decisions(run_id)
    review = store.review(run_id)
    assert len(decisions) == total
    for cid in confident:
        assert decisions[cid].assessor == "Alice Martin"
        draft = review.draft(cid)
        assert draft and decisions[cid].level == draft.level
    assert pg.locator("#accept-form").count() == 0
    pg.once("dialog", lambda d: d.accept())
    pg.locator("body").press("f")
    pg.wait_for_selector("#grid-state:has-text('Grille validée')")
    pg.context.close()
