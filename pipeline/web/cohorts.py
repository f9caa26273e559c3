"""The trainer's cohort view: the latest review of each member's dossier, through `reports.cohort`."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import select

from pipeline.db.accounts import GroupRow
from pipeline.db.models import DossierRow
from pipeline.reports.cohort import CohortResult, CohortRow, cohort
from pipeline.reports.grid_data import build_grid_doc
from pipeline.web.access import latest_runs
from pipeline.web.state import WebState

DRAFT_SUFFIX = " (brouillon)"


def cohort_rows(state: WebState, group: GroupRow) -> list[tuple[CohortRow, DossierRow]]:
    """One row per candidate and kind (assessment, self-check draft): the latest dossier's latest run."""
    with state.store.session() as s:
        dossiers = list(
            s.scalars(
                select(DossierRow)
                .where(DossierRow.group_id == group.id, DossierRow.erased_at.is_(None))
                .order_by(DossierRow.uploaded_at.desc())
            )
        )
    runs = latest_runs(state, [d.id for d in dossiers])
    seen: set[tuple[str, str, str]] = set()
    out: list[tuple[CohortRow, DossierRow]] = []
    for d in dossiers:
        key = (d.owner_id or d.candidate_ref or d.id, d.kind, d.module)
        run = runs.get(d.id)
        if run is None or key in seen or run.referentiel != state.ref.ref:  # one grid per referentiel
            continue
        seen.add(key)
        row = CohortRow.from_grid(build_grid_doc(state.store, run.id))
        name = (d.candidate_ref or d.file_name) + (DRAFT_SUFFIX if d.kind == "self_check" else "")
        out.append((row.model_copy(update={"candidate_ref": name}), d))
    out.sort(key=lambda rd: rd[0].candidate_ref.lower())
    return out


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
