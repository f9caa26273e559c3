"""A candidate's self-check speaks the candidate's language: how much is addressed, three
priorities, no assessor jargon, no English identifier."""

from __future__ import annotations

from tests.web.conftest import World
from tests.web.helpers import without_quotes


def test_self_check_summary_and_words(world: World) -> None:
    html = without_quotes(world.client("carla").get(f"/runs/{world.ids['carla_run']}").text)
    assert "L’essentiel" in html and "Votre brouillon aborde" in html
    start = html.index("Vos trois priorités")
    assert html[start : html.index("</ol>", start)].count("<li>") == 3
    for jargon in ("à vérifier", "passages retenus", "passage(s) retenu", "offline", "moteur :", "confiance"):
        assert jargon not in html, jargon


def test_review_page_names_the_engine_in_french(world: World) -> None:
    html = world.client("alice").get(f"/runs/{world.ids['assess_run']}").text
    assert "(offline)" not in html and "pré-lecture locale, sans modèle génératif" in html
