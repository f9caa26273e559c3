"""Review storage on SQLite and on a real PostgreSQL (started by scripts/test.sh)."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.db.models import AuditRow, DecisionRow, DossierRow, RunRow
from pipeline.db.store import ReviewStore
from pipeline.erasure import erase_dossier
from pipeline.errors import StorageError
from pipeline.referentiel import load_referentiel
from pipeline.review import record_review, run_review
from pipeline.settings import Settings

REF = load_referentiel()
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
PG_URL = os.environ.get("DOSSIER_REVIEW_TEST_PG_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'dossier-review.db'}"
        return
    if not PG_URL:
        pytest.skip("DOSSIER_REVIEW_TEST_PG_URL not set (scripts/test.sh starts a PostgreSQL)")
    name = f"dr_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    sa.create_engine(url).dispose()
    with admin.connect() as c:
        c.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture
def reviewed(db_url: str, tmp_path: Path) -> tuple[ReviewStore, Settings, str, str]:
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing", database_url=db_url)
    settings.ensure_dirs()
    store = ReviewStore(db_url)
    outcome = run_review(SAMPLE, "M2", settings, REF)
    rec = record_review(store, SAMPLE, outcome, REF, settings, actor="alice", candidate_ref="Cand. 07")
    return store, settings, rec.dossier_id, rec.run_id


def test_migrations_from_empty_create_every_table(db_url: str) -> None:
    store = ReviewStore(db_url)
    names = set(sa.inspect(store.engine).get_table_names())
    assert {"dossiers", "runs", "referentiels", "decisions", "grids", "audit", "alembic_version"} <= names
    store.migrate()  # idempotent


def test_decisions_keep_history_and_finalize_locks(reviewed: tuple[ReviewStore, Settings, str, str]) -> None:
    store, _, _, rid = reviewed
    crits = [s.criterion_id for s in store.review(rid).criteria]
    assert len(crits) == 15
    store.decide(rid, "C6.1", 1, "alice", "premier avis")
    store.decide(rid, "C6.1", 2, "alice", "revu après relecture")
    assert [d.level for d in store.history(rid, "C6.1")] == [1, 2]
    assert store.decisions(rid)["C6.1"].comment == "revu après relecture"
    with pytest.raises(StorageError, match="undecided"):
        store.finalize(rid, "alice")
    for c in crits:
        if c != "C6.1":
            sug = next(s for s in store.review(rid).criteria if s.criterion_id == c)
            store.decide(rid, c, sug.level if sug.level is not None else 0, "alice")
    grid = store.finalize(rid, "alice")
    assert grid.locked and grid.finalized_by == "alice" and set(grid.verdicts) == {"C6", "C7", "C8", "C9"}
    with pytest.raises(StorageError) as e:
        store.decide(rid, "C6.2", 3, "bob")
    assert "verrouillée" in e.value.user_message
    with pytest.raises(StorageError):
        store.finalize(rid, "bob")
    assert store.decisions(rid)["C6.2"].assessor == "alice"


def test_decide_refuses_bad_input(reviewed: tuple[ReviewStore, Settings, str, str]) -> None:
    store, _, _, rid = reviewed
    with pytest.raises(StorageError, match="outside the scale"):
        store.decide(rid, "C6.1", 7, "alice")
    with pytest.raises(StorageError, match="not in run"):
        store.decide(rid, "C1.1", 2, "alice")
    with pytest.raises(StorageError):
        store.decide("0" * 32, "C6.1", 2, "alice")


def test_concurrent_decisions_lose_nothing(reviewed: tuple[ReviewStore, Settings, str, str]) -> None:
    store, _, _, rid = reviewed
    crits = [s.criterion_id for s in store.review(rid).criteria]
    errors: list[BaseException] = []

    def worker(who: str, level: int) -> None:
        own = ReviewStore(store.url, migrate=False)
        try:
            for c in crits:
                own.decide(rid, c, level, who)
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n, lv)) for n, lv in (("alice", 1), ("bob", 2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.history(rid)) == 2 * len(crits)
    assert set(store.decisions(rid)) == set(crits)


def test_erase_leaves_no_dossier_text(reviewed: tuple[ReviewStore, Settings, str, str]) -> None:
    store, settings, did, _rid = reviewed
    from pipeline.types import Dossier

    parsed = Dossier.model_validate(store.dossier(did).parsed)
    probes = [b.text for b in parsed.blocks if b.kind == "paragraph" and len(b.text) > 80][:5]
    assert probes
    erase_dossier(store, settings, did, "dpo")
    with store.session() as s:
        for model in (DossierRow, RunRow, DecisionRow):
            assert s.scalar(sa.select(sa.func.count()).select_from(model)) == 0
        audit = list(s.scalars(sa.select(AuditRow)))
    assert [a.action for a in audit] == ["erase"] and "dpo" in audit[0].detail
    assert all(parsed.file not in a.detail for a in audit)
    # no dossier text anywhere in the data dir (database files, vector store, caches, stored files)
    needles = [p[:60].encode() for p in probes] + [parsed.file.encode()]
    for f in settings.data_dir.rglob("*"):
        if f.is_file():
            blob = f.read_bytes()
            for n in needles:
                assert n not in blob, f"{n[:30]!r} still in {f}"
