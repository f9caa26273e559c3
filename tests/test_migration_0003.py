"""Migration 0003 carries runs stored before typed reviews over: readable, decidable, exportable."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa

from pipeline.db.store import ReviewStore
from pipeline.referentiel import resolve_referentiel
from pipeline.reports.grid_data import build_grid_doc
from pipeline.reports.review_doc import review_json
from pipeline.review import run_review
from pipeline.settings import Settings

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "m2_hotel_moyen" / "m2_hotel_moyen.docx"


def _legacy_review(tmp_path: Path) -> dict:
    """A review.json as the CLI stored it before 0003: criteria keyed `id`, no gaps, loose provenance."""
    ref = resolve_referentiel()
    review = run_review(SAMPLE, "M2", Settings(data_dir=tmp_path / "gen", embedder="hashing"), ref).review
    data = review_json(review, ref)
    for c in data["criteria"]:
        del c["gaps"]
    data["provenance"] = {
        k: v for k, v in data["provenance"].items() if k not in ("referentiel_hash", "level_model", "model")
    }
    return data


def test_old_runs_become_typed_reviews_with_their_referentiel(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = ReviewStore(url, migrate=False)
    store.migrate("0002")
    legacy = _legacy_review(tmp_path)
    now = dt.datetime.now(dt.UTC)
    with store.engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO dossiers (id, sha256, file_name, file_format, module, candidate_ref, uploaded_at, "
                "uploaded_by, kind) VALUES ('d1', :sha, 'old.docx', 'docx', 'M2', 'Cand. 3', :now, 'cli', 'assessment')"
            ),
            {"sha": legacy["dossier_sha256"], "now": now},
        )
        c.execute(
            sa.text(
                "INSERT INTO runs (id, dossier_id, created_at, module, backend, referentiel, settings, prompt_hashes, "
                "timings, warnings, review, status) VALUES ('r1', 'd1', :now, 'M2', 'offline', 'mdc-2023@2023', "
                "'{}', '[]', '{}', '[]', :review, 'done')"
            ),
            {"now": now, "review": json.dumps(legacy, ensure_ascii=False)},
        )
        for crit in legacy["criteria"]:
            c.execute(
                sa.text(
                    "INSERT INTO suggestions (run_id, criterion_id, level, confidence, status, rationale, missing, "
                    "evidence, provenance) VALUES ('r1', :cid, :level, 0.5, 'suggested', '', '[]', '[]', '{}')"
                ),
                {"cid": crit["id"], "level": crit["level"]},
            )
        c.execute(sa.text("INSERT INTO grids (run_id, locked, verdicts) VALUES ('r1', 0, '{}')"))

    store.migrate()
    assert "suggestions" not in sa.inspect(store.engine).get_table_names()
    review = store.review("r1")
    assert [d.criterion_id for d in review.criteria] == [c["id"] for c in legacy["criteria"]]
    assert [d.missing for d in review.criteria] == [c["missing"] for c in legacy["criteria"]]
    gaps = [g for d in review.criteria for g in d.gaps]
    assert gaps and all(g.kind in ("no_evidence", "vocabulary", "figures", "dates", "sources", "other") for g in gaps)
    for g in gaps:  # the former offline wording is typed back; anything else stays `other`
        if g.text.startswith("Pas de données chiffrées"):
            assert g.kind == "figures"
        if g.text.startswith("Aucun passage"):
            assert g.kind == "no_evidence"
    assert store.referentiel("r1").ref == "mdc-2023@2023"
    assert review.provenance.referentiel_hash == store.run("r1").referentiel_hash
    for d in review.criteria:
        store.decide("r1", d.criterion_id, 2, "Ana")
    assert store.finalize("r1", "Ana").locked
    doc = build_grid_doc(store, "r1")
    assert doc.candidate_ref == "Cand. 3" and all(
        ln.confirmed_level == 2 for b in doc.competencies for ln in b.criteria
    )


def test_0003_goes_down_and_up_again_keeping_the_run(tmp_path: Path) -> None:

    from pipeline.review import record_review

    ref = resolve_referentiel()
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing")
    store = ReviewStore(settings.db_url)
    rid = record_review(store, SAMPLE, run_review(SAMPLE, "M2", settings, ref), ref, settings).run_id
    before = store.review(rid)
    store.downgrade("0002")
    with store.engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM suggestions WHERE run_id = :r"), {"r": rid}).scalar() == 15
    store.migrate()
    after = ReviewStore(settings.db_url).review(rid)
    assert [(d.criterion_id, d.level, d.missing) for d in after.criteria] == [
        (d.criterion_id, d.level, d.missing) for d in before.criteria
    ]
