"""Every page at 1366 px and 390 px in Chromium: nothing scrolls sideways, axe-core finds no serious
or critical violation, and the review workspace works on a phone (one pane at a time, a way back
from the text to the criterion, a stable layout on save, a closable manipulation alert).

axe-core is vendored under tests/web/vendor/ (axe.min.js, MPL-2.0, licence beside it): the test
never downloads anything. Screenshots in test-output/web/layout-*.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI

from pipeline.web import pages_img
from tests.web.conftest import serving
from tests.web.helpers import OUTPUT, PASSWORD, SAMPLES, web_settings
from tests.web.test_browser import CHROMIUM, browser

__all__ = ["browser"]  # the fixture, shared with test_browser
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
from playwright.sync_api import Browser, Page  # noqa: E402  # test_browser skipped the module already if missing

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WIDTHS = {"desktop": 1366, "phone": 390}


@dataclass
class Site:
    url: str
    app: FastAPI
    ids: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One server for the module: an admin, an assessor with a reviewed PDF (with manipulation), a
    trainer and a candidate of one group with a self-check draft."""
    from pipeline.review import review_and_record  # noqa: F401  # imported early: the first request stays fast
    from pipeline.web import WebOptions, create_app
    from tests.web.helpers import finished_run, login, upload

    app = create_app(web_settings(tmp_path_factory.mktemp("layout")), WebOptions())
    acc = app.state.web.accounts
    lyon = acc.add_group("Lyon 2025")
    acc.add_user("root", "admin", PASSWORD, "Admin")
    acc.add_user("alice", "assessor", PASSWORD, "Alice Martin")
    for name, role, display in (("tom", "trainer", "Tom Formateur"), ("carla", "candidate", "Carla Candidate")):
        acc.add_member(lyon.id, acc.add_user(name, role, PASSWORD, display).id)
    from fastapi.testclient import TestClient

    ids: dict[str, str] = {"group": lyon.id}
    with TestClient(app) as alice, TestClient(app) as carla:
        csrf = login(alice, "alice")
        pdf = SAMPLES / "m2_injection_velo" / "m2_injection_velo.pdf"
        job = upload(alice, csrf, pdf, "M2", candidate_ref="Cand. 12", group_id=lyon.id)
        ids["run"] = finished_run(app, alice, job)
        docx = SAMPLES / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
        ids["docx_run"] = finished_run(app, alice, upload(alice, csrf, docx, "M2", candidate_ref="Cand. 13"))
        csrf = login(carla, "carla")
        job = upload(carla, csrf, SAMPLES / "m1_agence_faible" / "m1_agence_faible.docx", "M1")
        ids["draft"] = finished_run(app, carla, job)

    with serving(app) as url:
        yield Site(url=url, app=app, ids=ids)
    app.state.web.jobs.shutdown()


def open_as(browser: Browser, site: Site, who: str | None, width: int) -> Page:
    # bypass_csp: axe-core is injected as an inline script, which the pages' CSP refuses
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="fr-FR", bypass_csp=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    if who:
        pg.goto(site.url + "/login")
        pg.fill("input[name=username]", who)
        pg.fill("input[name=password]", PASSWORD)
        pg.click("button[type=submit]")
        pg.wait_for_load_state()
    return pg


def sideways_overflow(pg: Page) -> int:
    """How many pixels the page is wider than the viewport (0: nothing scrolls sideways)."""
    return int(pg.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def wider_than_the_screen(pg: Page) -> list[str]:
    """The first elements reaching past the right edge, to say what to fix."""
    return list(
        pg.evaluate(
            """() => Array.from(document.querySelectorAll('body *'))
                 .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
                 .slice(0, 5).map((e) => e.tagName.toLowerCase() + '.' + e.className)"""
        )
    )


def axe_violations(pg: Page) -> list[str]:
    """Serious and critical axe-core violations of the page, as 'rule: target' lines."""
    pg.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = pg.evaluate("async () => JSON.stringify((await axe.run(document)).violations)")
    bad = []
    for v in json.loads(result):
        if v["impact"] in ("serious", "critical"):
            bad.extend(f"{v['id']} ({v['impact']}): {n['target']}" for n in v["nodes"])
    return bad


PAGES = {  # name: (who, path)
    "login": (None, "/login"),
    "list": ("alice", "/dossiers"),
    "upload": ("alice", "/upload"),
    "review": ("alice", "/runs/{run}"),
    "review-docx": ("alice", "/runs/{docx_run}"),
    "feedback": ("carla", "/runs/{draft}"),
    "group": ("tom", "/groups/{group}"),
    "admin": ("root", "/admin"),
    # the other pages, for sideways scrolling and axe too
    "groups": ("tom", "/groups"),
    "sessions": ("root", "/sessions"),
    "feedback-print": ("alice", "/runs/{run}/feedback.html"),
    "review-admin": ("root", "/runs/{run}"),
}


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_pages_fit_the_screen_and_pass_axe(browser: Browser, site: Site, width_name: str) -> None:
    width = WIDTHS[width_name]
    problems: dict[str, list[str]] = {}
    for name, (who, path) in PAGES.items():
        pg = open_as(browser, site, who, width)
        pg.goto(site.url + path.format(**site.ids))
        pg.wait_for_load_state("networkidle")
        OUTPUT.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(OUTPUT / f"layout-{name}-{width}.png"), full_page=name != "review")
        found = []
        if (over := sideways_overflow(pg)) > 0:
            found.append(f"scrolls sideways by {over} px: {wider_than_the_screen(pg)}")
        found.extend(axe_violations(pg))
        if found:
            problems[name] = found
        pg.context.close()
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)


def test_review_on_a_phone_one_pane_at_a_time(browser: Browser, site: Site) -> None:
    pg = open_as(browser, site, "alice", 390)
    pg.goto(site.url + "/runs/" + site.ids["run"])
    pg.wait_for_selector(".crit.active")
    doc, crits = pg.locator("#doctext"), pg.locator("#criteria")
    assert crits.is_visible() and not doc.is_visible()
    assert pg.locator("#textview table.dossier-table thead th[scope=col]").count() > 0  # tables shown as tables

    # tapping a quote shows the text pane with the passage in view, and a button back to the criterion
    card = pg.locator(".crit:has(button.quote)").first
    card.locator(".crit-head").click()
    crit_id = card.get_attribute("data-crit")
    card.locator("button.quote").first.click()
    doc.wait_for(state="visible")
    assert not crits.is_visible()
    pg.wait_for_timeout(600)
    assert pg.locator("#doctext mark.ev.current").first.is_visible()
    pg.screenshot(path=str(OUTPUT / "layout-review-phone-text.png"))
    back = pg.locator("#back-to-criterion")
    assert crit_id and crit_id in back.inner_text()
    back.click()
    crits.wait_for(state="visible")
    assert card.is_visible() and "active" in (card.get_attribute("class") or "")
    assert sideways_overflow(pg) == 0
    pg.context.close()


def test_review_layout_stays_put_on_save_and_the_alert_closes(browser: Browser, site: Site) -> None:
    pg = open_as(browser, site, "alice", 1366)
    pg.goto(site.url + "/runs/" + site.ids["run"])
    pg.wait_for_selector(".crit.active")

    # the manipulation alert lists each passage once and can be closed
    alert = pg.locator("#manipulation-warning")
    assert alert.is_visible()
    pg.locator("#manipulation-warning summary").click()
    items = [" ".join(t.split()) for t in pg.locator(".alert-passages li").all_inner_texts()]
    assert len(items) == len(set(items)) and items

    # the competency statement is reachable without hovering
    toggle = pg.locator(".competency .statement-toggle").first
    toggle.focus()
    pg.keyboard.press("Enter")
    assert pg.locator(".competency .statement").first.is_visible()

    top = pg.locator("#review").bounding_box()
    card = pg.locator(".crit.active")
    card.locator("label.level:has(input[value='2'])").click()
    pg.locator("#status-line:not(:empty)").wait_for()
    after = pg.locator("#review").bounding_box()
    assert top and after and abs(after["y"] - top["y"]) < 1, (top, after)

    pg.locator("#close-warning").click()
    assert not alert.is_visible()
    after_close = pg.locator("#review").bounding_box()
    assert after_close and after_close["y"] < after["y"]
    pg.reload()
    pg.wait_for_selector(".crit.active")
    assert not pg.locator("#manipulation-warning").is_visible(), "closing is remembered for this dossier"
    pg.context.close()


@pytest.mark.parametrize("width_name", list(WIDTHS))
@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_page_image_with_the_quote_boxed(browser: Browser, site: Site, fmt: str, width_name: str) -> None:
    """A PDF's own pages; a DOCX's pages through its LibreOffice rendition, its quotes looked for on
    every page (LibreOffice paginates its own way)."""
    if fmt == "docx" and pages_img.soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    width = WIDTHS[width_name]
    pg = open_as(browser, site, "alice", width)
    pg.goto(site.url + "/runs/" + site.ids["run" if fmt == "pdf" else "docx_run"])
    pg.wait_for_selector(".crit.active")
    card = pg.locator(
        ".crit:has(button.quote[data-page]:not([data-page='']))" if fmt == "pdf" else ".crit:has(button.quote)"
    )
    card.first.locator(".crit-head").click()
    quote = card.first.locator("button.quote").first
    quote.click()
    if width < 900:
        pg.locator("#doctext").wait_for(state="visible")
    assert ("LibreOffice" in pg.locator("#page-hint").inner_text()) == (fmt == "docx")
    pg.click(".view-switch button[data-view=page]")
    pg.wait_for_function("() => document.getElementById('page-img').naturalWidth > 0", timeout=180_000)
    pg.locator("#page-wrap .pagebox").first.wait_for()
    assert pg.locator("#page-wrap .pagebox-num").first.inner_text() == "1"
    page = quote.get_attribute("data-page") if fmt == "pdf" else ""
    assert pg.locator("#page-caption").inner_text().startswith(f"Page {page}")
    assert sideways_overflow(pg) == 0 and not axe_violations(pg)
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(OUTPUT / f"layout-page-image-{fmt}-{width}.png"))
    pg.click(".view-switch button[data-view=text]")
    assert pg.locator("#doctext mark.ev").first.is_visible() or width < 900
    pg.context.close()


def test_docx_without_libreoffice_shows_the_text_and_says_why(
    browser: Browser, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages_img, "soffice", lambda: None)
    pg = open_as(browser, site, "alice", 390)
    pg.goto(site.url + "/runs/" + site.ids["docx_run"])
    pg.wait_for_selector(".crit.active")
    pg.click(".pane-switch button[data-pane=doctext]")
    assert "LibreOffice n’est pas installé" in pg.locator("#page-note").inner_text()
    assert pg.locator(".view-switch").count() == 0 and pg.locator("#textview .blk").count() > 10
    assert sideways_overflow(pg) == 0
    pg.screenshot(path=str(OUTPUT / "layout-docx-text-only-390.png"))
    pg.context.close()


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_admin_changes_a_role_removes_a_member_and_erases_after_confirming(
    browser: Browser, site: Site, width_name: str
) -> None:
    """The new admin actions from the page, each audited; the erasure's confirmation page fits the
    screen and passes axe; cancelling it erases nothing."""
    width = WIDTHS[width_name]
    acc = site.app.state.web.accounts
    group = acc.group(site.ids["group"])
    assert group is not None
    bob = acc.add_user(f"bob{width}", "assessor", PASSWORD, f"Bob {width}")
    zoe = acc.add_user(f"zoe{width}", "candidate", PASSWORD, f"Zoé {width}")
    acc.add_member(group.id, zoe.id)
    pg = open_as(browser, site, "root", width)
    pg.goto(site.url + "/admin")

    pg.select_option("form[action='/admin/role'] select[name=user_id]", bob.id)
    pg.select_option("form[action='/admin/role'] select[name=role]", "trainer")
    pg.click("form[action='/admin/role'] button")
    assert "désormais formateur" in pg.locator("p.notice").inner_text()

    pg.select_option("select[name=membership]", f"{group.id}/{zoe.id}")
    pg.click("form[action='/admin/members/remove'] button")
    assert "retiré du groupe" in pg.locator("p.notice").inner_text()

    # erasing a dossier asks first; cancelling erases nothing
    dossier_id = site.app.state.web.store.run(site.ids["run"]).dossier_id
    pg.select_option("#erase select[name=dossier_id]", dossier_id)
    pg.click("#erase form:has(select[name=dossier_id]) button")
    pg.wait_for_selector("#erase-confirm")
    assert "Cand. 12" in pg.inner_text("main")
    found = [f"scrolls sideways by {over} px" for over in [sideways_overflow(pg)] if over > 0] + axe_violations(pg)
    pg.screenshot(path=str(OUTPUT / f"layout-admin-erase-{width}.png"), full_page=True)
    assert not found, found
    pg.click("text=Annuler")
    assert site.app.state.web.store.dossier(dossier_id)

    pg.select_option("#erase select[name=user_id]", zoe.id)
    pg.click("#erase form:has(select[name=user_id]) button")
    pg.click("#erase-confirm")  # the box is not ticked: the browser refuses the form
    assert acc.user(zoe.id) is not None
    pg.check("input[name=confirm]")
    pg.click("#erase-confirm")
    assert f"Candidat « Zoé {width} » effacé" in pg.locator("p.notice").inner_text()
    assert acc.user(zoe.id) is None
    assert sideways_overflow(pg) == 0 and not axe_violations(pg)
    pg.screenshot(path=str(OUTPUT / f"layout-admin-{width}.png"), full_page=True)
    pg.context.close()
    done = {(a.action, a.detail) for a in site.app.state.web.store.audit() if a.actor == "root"}
    assert ("role", f"bob{width} : assessor → trainer") in done
    assert ("member_remove", f"[compte effacé] → {group.name}") in done  # her name left the audit trail
    assert ("user_erase", "compte de candidat effacé") in done
