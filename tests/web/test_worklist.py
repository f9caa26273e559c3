"""The assessor's worklist: progress x/N, the alert flag, filter and sort, and the next dossier
offered once a grid is finalized."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from pipeline.web import create_app
from tests.web.helpers import PASSWORD, SAMPLES, finished_run, login, upload, web_settings


def test_worklist_progress_flags_filter_and_next_dossier(tmp_path: Path) -> None:
    app = create_app(web_settings(tmp_path))
    app.state.web.accounts.add_user("alice", "assessor", PASSWORD, "Alice Martin")
    store = app.state.web.store
    with TestClient(app) as c:
        csrf = login(c, "alice")
        flagged = finished_run(
            app, c, upload(c, csrf, SAMPLES / "m2_injection_velo" / "m2_injection_velo.docx", "M2", candidate_ref="Zoé")
        )
        plain = finished_run(
            app, c, upload(c, csrf, SAMPLES / "m2_hotel_moyen" / "m2_hotel_moyen.docx", "M2", candidate_ref="Albert")
        )
        criteria = [d.criterion_id for d in store.review(flagged).criteria]
        store.decide(flagged, criteria[0], 1, "Alice Martin")
        page = c.get("/dossiers").text
        assert f"1/{len(criteria)}" in page and "0/15" in page and page.count("⚠ alerte") == 1
        assert c.get("/dossiers?filtre=signales").text.count("Relire") == 1
        assert c.get("/dossiers?tri=candidat").text.index("Albert") < c.get("/dossiers?tri=candidat").text.index("Zoé")
        assert c.get("/dossiers?tri=nimporte&filtre=<script>").status_code == 200

        for cid in criteria[1:]:
            store.decide(flagged, cid, 2, "Alice Martin")
        store.finalize(flagged, "Alice Martin")
        assert f'href="/runs/{plain}">Dossier suivant' in c.get(f"/runs/{flagged}").text
        assert "Aucun dossier « à relire »" not in c.get("/dossiers?filtre=a_relire").text
        assert c.get("/dossiers?filtre=validees").text.count("Relire") == 1
    app.state.web.jobs.shutdown()
