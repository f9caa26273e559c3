"""Finalize racing decisions (issue 14, finding 2), on SQLite and on PostgreSQL.

Twelve decisions and one finalize start together, as threads and as separate processes. Every
decision must end either refused (the grid was already locked) or counted in the verdicts the
finalize stored; none may be committed after the lock.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import queue
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pipeline.db.models import AuditRow, ReferentielRow
from pipeline.db.store import ReviewStore
from pipeline.referentiel import load_referentiel
from pipeline.review import ReviewOutcome, record_review, run_review
from pipeline.settings import Settings
from tests.race_worker import contend
from tests.test_store import SAMPLE, db_url  # noqa: F401  (db_url: the SQLite/PostgreSQL fixture, used by name)

REF = load_referentiel()
RACERS = 12


def _fresh_run(store: ReviewStore, settings: Settings, outcome: ReviewOutcome) -> tuple[str, list[str]]:
    """A new stored run of the review whose criteria are all decided at the top level."""
    again = dataclasses.replace(outcome, review=outcome.review.model_copy(update={"run_id": uuid.uuid4().hex}))
    rid = record_review(store, SAMPLE, again, REF, settings).run_id
    crits = [d.criterion_id for d in store.review(rid).criteria]
    for c in crits:
        store.decide(rid, c, REF.scale.max_level, "alice")
    return rid, crits


def _check_round(store: ReviewStore, rid: str, outcomes: list[tuple[str, str | None, str]]) -> tuple[int, int]:
    """Assert the invariant; returns (decisions counted, decisions refused)."""
    errors = [o for o in outcomes if o[2].startswith("error")]
    assert not errors, errors
    assert len(outcomes) == RACERS + 1
    fin = [o for o in outcomes if o[0] == "finalize"]
    assert fin == [("finalize", None, "ok")], fin
    decided = {c for kind, c, r in outcomes if kind == "decide" and r == "ok"}
    refused = [(c, r) for kind, c, r in outcomes if kind == "decide" and r != "ok"]
    assert all("verrouillée" in r for _, r in refused), refused
    grid = store.grid(rid)
    assert grid.locked
    # the stored verdicts are exactly those of the decisions the grid shows
    current = store.decisions(rid)
    expected = {
        comp.id: REF.verdict([current[k.id].level for k in comp.criteria])
        for comp in REF.competencies
        if any(k.id in current for k in comp.criteria)
    }
    assert grid.verdicts == expected
    # every accepted racing decision is the current one for its criterion, and was committed before the lock
    for c in decided:
        assert current[c].level == REF.scale.min_level and current[c].assessor == f"racer-{c}"
    with store.session() as s:
        audit = list(s.scalars(sa.select(AuditRow).where(AuditRow.run_id == rid).order_by(AuditRow.id)))
    finalize_at = next(i for i, a in enumerate(audit) if a.action == "finalize")
    late = [a.detail for a in audit[finalize_at + 1 :] if a.action == "decide"]
    assert not late, f"decisions committed after the lock: {late}"
    assert sum(1 for a in audit if a.action == "decide" and a.actor.startswith("racer-")) == len(decided)
    return len(decided), len(refused)


def _race(url: str, rid: str, crits: list[str], delay: float, processes: bool) -> list[tuple[str, str | None, str]]:
    targets: list[tuple[str | None, float]] = [(c, 0.0) for c in crits[:RACERS]]
    targets.insert(RACERS // 2, (None, delay))
    if processes:
        ctx = multiprocessing.get_context("spawn")
        start: Any = ctx.Barrier(len(targets))
        results: Any = ctx.Queue()
        procs = [
            ctx.Process(target=contend, args=(url, rid, c, REF.scale.min_level, start, results, d)) for c, d in targets
        ]
    else:
        start, results = threading.Barrier(len(targets)), queue.Queue()
        procs = [
            threading.Thread(target=contend, args=(url, rid, c, REF.scale.min_level, start, results, d))
            for c, d in targets
        ]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in targets]
    for p in procs:
        p.join(timeout=60)
    return got


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_finalize_racing_twelve_decisions(db_url: str, tmp_path: Path, processes: bool) -> None:  # noqa: F811
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing", database_url=db_url)
    settings.ensure_dirs()
    store = ReviewStore(db_url)
    counted = refused = 0
    delays = [0.0, 0.005] if processes else [0.0, 0.0005, 0.001, 0.002, 0.005]
    outcome = run_review(SAMPLE, "M2", settings, REF)
    for delay in delays:
        rid, crits = _fresh_run(store, settings, outcome)
        assert len(crits) >= RACERS
        c, r = _check_round(store, rid, _race(db_url, rid, crits, delay, processes))
        counted, refused = counted + c, refused + r
    how = "processes" if processes else "threads"
    print(f"\n{store.engine.dialect.name} {how}: {counted} decisions counted, {refused} refused")
    assert counted + refused == RACERS * len(delays)


def test_first_runs_stored_at_once_share_one_referentiel(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    """Two session workers finishing their first reviews together both store the referentiel
    snapshot (found in CI: the second failed on its unique key and the dossier had no run)."""
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing", database_url=db_url)
    settings.ensure_dirs()
    ReviewStore(db_url).engine.dispose()  # migrated once; the racers start on a ready schema
    outcome = run_review(SAMPLE, "M2", settings, REF)
    writers = 6
    start, results = threading.Barrier(writers), queue.Queue[str]()

    def store_run() -> None:
        store = ReviewStore(db_url, migrate=False)
        again = dataclasses.replace(outcome, review=outcome.review.model_copy(update={"run_id": uuid.uuid4().hex}))
        start.wait()
        try:
            results.put(record_review(store, SAMPLE, again, REF, settings).run_id)
        except Exception as e:  # reported to the test, which fails on it
            results.put(f"error: {type(e).__name__}: {e}")
        finally:
            store.engine.dispose()

    threads = [threading.Thread(target=store_run) for _ in range(writers)]
    for t in threads:
        t.start()
    got = [results.get(timeout=120) for _ in threads]
    for t in threads:
        t.join(timeout=60)
    assert not [g for g in got if g.startswith("error")], got
    store = ReviewStore(db_url, migrate=False)
    assert {store.referentiel(rid).snapshot_hash for rid in got} == {REF.snapshot_hash}
    with store.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ReferentielRow)) == 1
