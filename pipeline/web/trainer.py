"""The trainer's group page, per module: levels confirmed by an assessor kept apart from the tool's
suggestions, and the criteria most often below the threshold counted on confirmed levels only.

Self-check drafts never reach here (their candidate was told "aucune note"). Nothing is drawn:
the page is HTML tables, so it stays fast for a whole class (benchmarks/trainer_page.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.reports.cohort import CohortRow
from pipeline.web.state import WebState


@dataclass(frozen=True)
class Missed:
    criterion_id: str
    text: str
    below: int
    assessed: int

    @property
    def share(self) -> float:
        return self.below / self.assessed if self.assessed else 0.0


@dataclass(frozen=True)
class ModuleView:
    module: str
    title: str
    criteria: list[str]
    rows: list[CohortRow]
    missed: list[Missed]
    confirmed: int
    pending: int


def module_views(state: WebState, rows: list[CohortRow]) -> list[ModuleView]:
    ref = state.ref
    threshold = ref.scale.rule.acquired_min_level
    views = []
    for module in sorted({r.module for r in rows}):
        mrows = [r for r in rows if r.module == module]
        crits = ref.criteria_for(module)
        missed = []
        for k in crits:
            levels = [r.levels[k.id] for r in mrows if r.confirmed.get(k.id) and r.levels.get(k.id) is not None]
            below = sum(1 for lv in levels if lv is not None and lv < threshold)
            if below:
                missed.append(Missed(criterion_id=k.id, text=k.text, below=below, assessed=len(levels)))
        missed.sort(key=lambda m: (-m.share, -m.below, m.criterion_id))
        confirmed = sum(1 for r in mrows for k in crits if r.confirmed.get(k.id) and r.levels.get(k.id) is not None)
        pending = sum(1 for r in mrows for k in crits if not r.confirmed.get(k.id) and r.levels.get(k.id) is not None)
        views.append(
            ModuleView(
                module=module,
                title=ref.modality(module).title,
                criteria=[k.id for k in crits],
                rows=mrows,
                missed=missed[:10],
                confirmed=confirmed,
                pending=pending,
            )
        )
    return views
