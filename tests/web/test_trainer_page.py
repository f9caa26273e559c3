"""The trainer's group page: per module, confirmed levels apart from suggestions, HTML tables
with the values, never the levels of a self-check draft."""

from __future__ import annotations

from tests.web.conftest import World


def test_group_page_separates_confirmed_from_suggested_and_hides_drafts(world: World) -> None:
    html = world.client("tom").get(f"/groups/{world.ids['lyon']}").text
    assert 'id="module-M2"' in html  # alice's assessment
    assert 'id="module-M1"' not in html  # carla's M1 self-check draft: listed, never with levels
    assert "auto-évaluation" in html and "<img" not in html
    assert "Carte des niveaux confirmés" in html and '<th scope="row">C6.1</th>' in html
    assert 'class="num lv' not in html  # nothing confirmed yet
    assert "Suggestions de l’outil en attente de confirmation (15)" in html
    assert "niveaux confirmés seulement" in html and "Aucun critère sous le seuil" in html
