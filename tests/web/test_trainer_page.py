"""The trainer's group page: per module, confirmed levels apart from suggestions, HTML tables
with the values, never the levels of a self-check draft."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

from pipeline.reports.cohort import CohortRow
from pipeline.reports.grid_data import build_grid_doc
from pipeline.review import record_review, run_review
from pipeline.web import create_app
from pipeline.web.cohorts import cohort_rows
from tests.web.conftest import World
from tests.web.helpers import SAMPLES, web_settings

SAMPLE = SAMPLES / "m2_hotel_moyen" / "m2_hotel_moyen.docx"


def test_group_page_separates_confirmed_from_suggested_and_hides_drafts(world: World) -> None:
    html = world.client("tom").get(f"/groups/{world.ids['lyon']}").text
    assert 'id="module-M2"' in html  # alice's assessment
    assert 'id="module-M1"' not in html  # carla's M1 self-check draft: listed, never with levels
    assert "auto-évaluation" in html and "<img" not in html
    assert "Carte des niveaux confirmés" in html and '<th scope="row">C6.1</th>' in html
    assert 'class="num lv' not in html  # nothing confirmed yet
    assert "Suggestions de l’outil en attente de confirmation (15)" in html
    assert "niveaux confirmés seulement" in html and "Aucun critère sous le seuil" in html


def test_levels_match_the_grids_and_a_new_decision_shows_at_once(tmp_path: Path) -> None:
    """The group's levels are read in bulk (suggestions once per run, decisions in one query): the same
    as each run's grid, and a decision made since the last visit counts (the latest one)."""
    settings = web_settings(tmp_path)
    app = create_app(settings)
    state = app.state.web
    group = state.accounts.add_group("Lyon 2025")
    outcome = run_review(SAMPLE, "M2", settings, state.ref)
    runs = []
    for i in range(2):
        copy = dataclasses.replace(outcome, review=outcome.review.model_copy(update={"run_id": uuid.uuid4().hex}))
        rec = record_review(
            state.store, SAMPLE, copy, state.ref, settings, actor="test",
            candidate_ref=f"Candidat {i}", group_id=group.id, kind="assessment",
        )  # fmt: skip
        runs.append(rec.run_id)
    first, second = (d.criterion_id for d in outcome.review.criteria[:2])
    state.store.decide(runs[0], first, 3, "Alice")
    state.store.decide(runs[0], first, 1, "Alice")  # changed: the latest counts

    def same_as_grids() -> list[CohortRow]:
        rows = [row for row, _ in cohort_rows(state, group)]
        for row in rows:
            grid = CohortRow.from_grid(build_grid_doc(state.store, row.run_id))
            assert (row.levels, row.confirmed) == (grid.levels, grid.confirmed)
        return rows

    rows = same_as_grids()
    assert rows[0].levels[first] == 1 and rows[0].confirmed[first] and not rows[1].confirmed[first]
    state.store.decide(runs[1], second, 0, "Alice")
    rows = same_as_grids()
    assert rows[1].levels[second] == 0 and rows[1].confirmed[second]
    app.state.web.jobs.shutdown()
