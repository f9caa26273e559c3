"""The assessor's worklist: per-dossier progress (decided / criteria), flags, sort and filter,
and the next dossier to review after a grid is finalized."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipeline.db.accounts import UserRow
from pipeline.db.models import DossierRow, RunRow
from pipeline.errors import ReferentielError
from pipeline.web.access import latest_runs, visible_dossiers
from pipeline.web.state import WebState

SORTS = {"date": "date de dépôt", "progression": "progression", "candidat": "candidat"}
FILTERS = {"tous": "tous", "a_relire": "à relire", "validees": "validés", "signales": "avec alerte"}


@dataclass(frozen=True)
class Progress:
    decided: int
    total: int
    locked: bool
    flagged: bool
    flag_detail: str

    @property
    def share(self) -> float:
        return self.decided / self.total if self.total else 0.0


def progress(state: WebState, run: RunRow) -> Progress:
    try:
        total = len(state.store.referentiel(run.id).criteria_for(run.module))
    except ReferentielError:
        total = 0
    warnings = [str(w) for w in (run.warnings or [])]
    return Progress(
        decided=len(state.store.decisions(run.id)),
        total=total,
        locked=state.store.grid(run.id).locked,
        flagged=bool(warnings),
        flag_detail=warnings[0][:300] if warnings else "",
    )


def worklist(
    state: WebState, user: UserRow, rows: list[DossierRow], runs: dict[str, RunRow], sort: str, keep: str
) -> tuple[list[DossierRow], dict[str, Progress]]:
    """The dossiers filtered and sorted as asked, with the progress of each reviewed one."""
    prog = {d.id: progress(state, runs[d.id]) for d in rows if d.id in runs and d.kind == "assessment"}

    def kept(d: DossierRow) -> bool:
        p = prog.get(d.id)
        if keep == "a_relire":
            return p is not None and not p.locked
        if keep == "validees":
            return p is not None and p.locked
        if keep == "signales":
            return p is not None and p.flagged
        return True

    out = [d for d in rows if kept(d)]
    if sort == "progression":
        out.sort(key=lambda d: (prog[d.id].locked, prog[d.id].share) if d.id in prog else (True, 2.0))
    elif sort == "candidat":
        out.sort(key=lambda d: (d.candidate_ref or "~").casefold())
    else:
        out.sort(key=lambda d: d.uploaded_at or dt.datetime.min, reverse=True)
    return out, prog


def next_dossier(state: WebState, user: UserRow, current_dossier_id: str) -> RunRow | None:
    """The assessor's next dossier whose grid is not finalized yet (oldest upload first)."""
    rows = [d for d in visible_dossiers(state, user) if d.kind == "assessment" and d.id != current_dossier_id]
    runs = latest_runs(state, [d.id for d in rows])
    for d in sorted(rows, key=lambda d: d.uploaded_at or dt.datetime.min):
        run = runs.get(d.id)
        if run is not None and not state.store.grid(run.id).locked:
            return run
    return None
