"""Sessions in the store, on SQLite and PostgreSQL: batch into a session, double marking with
one run per assessor, moderation, erasure of a candidate's dossier; migration 0004 down and up."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.db.sessions import SessionStore
from pipeline.db.store import ReviewStore
from pipeline.erasure import erase_dossier
from pipeline.errors import StorageError
from pipeline.referentiel import load_referentiel
from pipeline.sessions import add_manifest, assign, moderate, session_results, status_json
from pipeline.settings import Settings
from tests.test_store import db_url

__all__ = ["db_url"]  # the fixture (SQLite, and PostgreSQL when scripts/test.sh started one)
REF = load_referentiel()
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "m2_hotel_moyen" / "m2_hotel_moyen.docx"


def test_double_marking_moderation_and_erasure(db_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing", database_url=db_url)
    settings.ensure_dirs()
    store = ReviewStore(db_url)
    sid = SessionStore(store).create("Session PG", "M2", REF.ref, True, "admin")
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"candidate;file;assessor\nAna Lopes;{SAMPLE};Claire Petit | Marc Lenoir\n", encoding="utf-8")
    report = add_manifest(store, sid, manifest, settings, REF)
    assert [i.outcome for i in report.items] == ["reviewed"]
    again = add_manifest(store, sid, manifest, settings, REF)
    assert [i.outcome for i in again.items] == ["skipped"]

    _, [r] = session_results(store, sid)
    assert [m.assessor for m in r.markers] == ["Claire Petit", "Marc Lenoir"] and r.state == "marking"
    claire, marc = r.markers
    criteria = [d.criterion_id for d in store.review(claire.run_id or "").criteria]
    for cid in criteria:
        store.decide(claire.run_id or "", cid, 2, "Claire Petit")
        store.decide(marc.run_id or "", cid, 1 if cid == criteria[0] else 2, "Marc Lenoir")
    store.finalize(claire.run_id or "", "Claire Petit")
    assert status_json(store, sid)["dossiers"][0]["disagreements"] == []  # nothing before both finalize
    store.finalize(marc.run_id or "", "Marc Lenoir")
    _, [r] = session_results(store, sid)
    assert r.state == "moderation" and [(d.criterion_id, d.levels) for d in r.disagreements] == [(criteria[0], (2, 1))]
    moderate(store, sid, "Ana Lopes", criteria[0], 2, "Jeanne Moreau", "exemples chiffrés en annexe")
    _, [r] = session_results(store, sid)
    assert r.closed and r.final[criteria[0]].moderated and r.blocs == {"B2": "validé"}
    # reassigning after decisions is refused
    member = SessionStore(store).members(sid)[0]
    with pytest.raises(StorageError) as refused:
        assign(store, settings, member.id, [("Paul Roy", None), ("Marc Lenoir", None)], "admin")
    assert "déjà commencé" in refused.value.user_message

    erase_dossier(store, settings, member.dossier_id or "", "dpo")
    assert status_json(store, sid)["dossiers"][0]["status"] == "effacé"


def test_migration_0004_down_and_up(tmp_path: Path) -> None:
    store = ReviewStore(f"sqlite:///{tmp_path / 'm.db'}")
    SessionStore(store).create("S", "M1", REF.ref, False, "a")
    store.downgrade("0003")
    assert "exam_sessions" not in sa.inspect(store.engine).get_table_names()
    store.migrate()
    assert {"exam_sessions", "session_members", "session_assignments", "session_moderations"} <= set(
        sa.inspect(store.engine).get_table_names()
    )


def test_a_refused_manifest_assignment_is_reported_and_the_review_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing")
    store = ReviewStore(settings.db_url)
    sid = SessionStore(store).create("S", "M2", REF.ref, True, "admin")
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"candidate,file,assessor\nAna,{SAMPLE},Claire | claire\n", encoding="utf-8")
    [item] = add_manifest(store, sid, manifest, settings, REF).items
    assert item.outcome == "reviewed" and "affectation non faite" in item.message
    assert status_json(store, sid)["dossiers"][0]["status"] == "à affecter"
