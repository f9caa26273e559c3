"""The trainer's cohort view: the latest review of each member's dossier, through `reports.cohort`."""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import defer

from pipeline.db.accounts import GroupRow
from pipeline.db.models import DossierRow, RunRow
from pipeline.reports.cohort import CohortResult, CohortRow, cohort
from pipeline.web.access import latest_runs
from pipeline.web.state import WebState

DRAFT_SUFFIX = " (brouillon)"


def cohort_rows(state: WebState, group: GroupRow) -> list[tuple[CohortRow, DossierRow]]:
    """One row per candidate and kind (assessment, self-check draft): the latest dossier's latest run.

    Levels come from two reads for the whole group, not a grid per run: the suggested levels of each
    run (its stored review never changes: read once per process, `_suggested`) and the current
    decisions of all the runs in one query, so the trainer page stays fast for a class
    (benchmarks/trainer_page.py).
    """
    with state.store.session() as s:
        dossiers = list(
            s.scalars(
                select(DossierRow)
                .options(defer(DossierRow.parsed, raiseload=True))  # the text is not shown here
                .where(DossierRow.group_id == group.id, DossierRow.erased_at.is_(None))
                .order_by(DossierRow.uploaded_at.desc())
            )
        )
    runs = latest_runs(state, [d.id for d in dossiers])
    seen: set[tuple[str, str, str]] = set()
    chosen: list[tuple[RunRow, DossierRow]] = []
    for d in dossiers:
        key = (d.owner_id or d.candidate_ref or d.id, d.kind, d.module)
        run = runs.get(d.id)
        if run is None or key in seen or run.referentiel != state.ref.ref:  # one grid per referentiel
            continue
        seen.add(key)
        chosen.append((run, d))
    ids = [run.id for run, _ in chosen]
    suggested = _suggested(state, ids)
    decided = state.store.current_levels(ids)
    out: list[tuple[CohortRow, DossierRow]] = []
    for run, d in chosen:
        levels: dict[str, int | None] = {**suggested[run.id], **decided[run.id]}
        name = (d.candidate_ref or d.file_name) + (DRAFT_SUFFIX if d.kind == "self_check" else "")
        row = CohortRow(
            candidate_ref=name,
            run_id=run.id,
            module=run.module,
            levels=levels,
            confirmed={cid: cid in decided[run.id] for cid in levels},
        )
        out.append((row, d))
    out.sort(key=lambda rd: rd[0].candidate_ref.lower())
    return out


_SUGGESTED: OrderedDict[str, dict[str, int | None]] = OrderedDict()  # run id -> criterion -> suggested level
_SUGGESTED_MAX = 20_000
_suggested_lock = threading.Lock()


def _suggested(state: WebState, run_ids: list[str]) -> dict[str, dict[str, int | None]]:
    """The tool's suggested level per criterion of each run, read from the stored reviews the first time
    (a stored run is never rewritten, so its run id is the whole cache key), then from memory."""
    with _suggested_lock:
        found = {r: _SUGGESTED[r] for r in run_ids if r in _SUGGESTED}
    found.update(state.store.suggested_levels([r for r in run_ids if r not in found]))
    with _suggested_lock:
        for run_id, levels in found.items():
            _SUGGESTED[run_id] = levels
            _SUGGESTED.move_to_end(run_id)
        while len(_SUGGESTED) > _SUGGESTED_MAX:
            _SUGGESTED.popitem(last=False)
    return found


FILES = {
    "heatmap.png": "image/png",
    "cohort.csv": "text/csv; charset=utf-8",
    "most_missed.csv": "text/csv; charset=utf-8",
}


def build_cohort(
    state: WebState, group: GroupRow, rows: list[CohortRow] | None = None, file: str | None = None
) -> tuple[CohortResult, bytes | None] | None:
    """The group's cohort summary, and the bytes of one of its files when asked (`heatmap.png`...).

    The files are drawn in a temporary folder and dropped: no copy of candidates' names or
    levels stays on disk, so erasing a dossier leaves nothing behind here. None while no member
    has a finished review.
    """
    if rows is None:  # levels of assessments only: a self-check draft's candidate was told "aucune note"
        rows = [r for r, d in cohort_rows(state, group) if d.kind == "assessment"]
    if not rows:
        return None
    with tempfile.TemporaryDirectory(prefix="dr-cohort-") as tmp:
        result = cohort(rows, state.ref, Path(tmp))
        data = (Path(tmp) / file).read_bytes() if file in FILES else None
    return result, data
