"""A cohort at a glance: levels per criterion and candidate (CSV, heatmap) and the most missed criteria.

A level counts as it stands: the assessor's confirmed level when decided, else the tool's
suggestion, and every cell says which (suggested values are marked in the CSV and starred
on the heatmap), so a cohort view is never mistaken for validated marks.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import ReviewError
from pipeline.referentiel import Referentiel
from pipeline.reports import csv_safe
from pipeline.reports.grid_data import GridDoc

CSV_DELIMITER = ";"  # what a French spreadsheet opens without an import dialog
CSV_ENCODING = "utf-8-sig"  # with a BOM, so that Excel reads the accents right
SUGGESTED_MARK = "suggéré"
CONFIRMED_MARK = "confirmé"


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CohortRow(_M):
    """One candidate's levels for one run."""

    candidate_ref: str
    run_id: str
    module: str
    levels: dict[str, int | None] = Field(
        description="Criterion id -> confirmed level when decided, else the suggested one (None: neither)."
    )
    confirmed: dict[str, bool] = Field(
        default_factory=dict, description="Criterion id -> True when the level is the assessor's decision."
    )

    @classmethod
    def from_grid(cls, doc: GridDoc) -> CohortRow:
        levels: dict[str, int | None] = {}
        confirmed: dict[str, bool] = {}
        for block in doc.competencies:
            for line in block.criteria:
                decided = line.confirmed_level is not None
                levels[line.id] = line.confirmed_level if decided else line.suggested_level
                confirmed[line.id] = decided
        return cls(
            candidate_ref=doc.candidate_ref, run_id=doc.run_id, module=doc.module, levels=levels, confirmed=confirmed
        )


class MissedCriterion(_M):
    criterion_id: str
    text: str = Field(description="Official criterion text (with its preamble).")
    assessed: int = Field(description="Candidates with a level for this criterion.")
    below: int = Field(description="Candidates below the acquisition threshold.")
    share: float = Field(description="below / assessed.")
    suggested: int = Field(description="How many of the levels counted are unconfirmed suggestions.")


class CohortResult(_M):
    csv_path: Path
    heatmap_path: Path
    most_missed_path: Path
    candidates: int
    criteria: list[str]
    threshold: int = Field(description="The scale's acquired_min_level.")
    threshold_label: str
    modules: list[str]
    confirmed_share: float = Field(description="Share of the levels shown that are confirmed decisions.")
    most_missed: list[MissedCriterion] = Field(description="Sorted by share below the threshold, highest first.")


def cohort(rows: list[CohortRow], ref: Referentiel, out_dir: Path) -> CohortResult:
    """Write `cohort.csv`, `heatmap.png` and `most_missed.csv` into `out_dir`; return the ranking."""
    criteria = _criteria(rows, ref)
    if not rows or not criteria:
        raise ReviewError(
            f"cohort: {len(rows)} run(s), {len(criteria)} criterion(s): nothing to summarise",
            "Aucune analyse avec des niveaux à synthétiser : choisissez au moins une analyse terminée.",
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = _column_names(rows)
    missed = most_missed(rows, ref, criteria)
    result = CohortResult(
        csv_path=out_dir / "cohort.csv",
        heatmap_path=out_dir / "heatmap.png",
        most_missed_path=out_dir / "most_missed.csv",
        candidates=len(rows),
        criteria=criteria,
        threshold=ref.scale.rule.acquired_min_level,
        threshold_label=ref.scale.label(ref.scale.rule.acquired_min_level),
        modules=sorted({r.module for r in rows}),
        confirmed_share=_confirmed_share(rows),
        most_missed=missed,
    )
    _write_matrix(result.csv_path, rows, criteria, columns)
    _write_most_missed(result.most_missed_path, missed)
    _heatmap(result.heatmap_path, rows, criteria, columns, ref, result.modules)
    return result


def _criteria(rows: list[CohortRow], ref: Referentiel) -> list[str]:
    """Criteria any row has a level for, in referentiel order (unknown ids last, sorted)."""
    seen = {cid for r in rows for cid in r.levels}
    known = [k.id for c in ref.competencies for k in c.criteria if k.id in seen]
    return known + sorted(seen - set(known))


def _column_names(rows: list[CohortRow]) -> list[str]:
    """Candidate refs, made unique with the run id when a candidate appears twice."""
    counts = Counter(r.candidate_ref for r in rows)
    names = [r.candidate_ref if counts[r.candidate_ref] == 1 else f"{r.candidate_ref} ({r.run_id[:6]})" for r in rows]
    return [n if names.count(n) == 1 else f"{n} #{i + 1}" for i, n in enumerate(names)]


def _confirmed_share(rows: list[CohortRow]) -> float:
    counted = [(r, cid) for r in rows for cid, lv in r.levels.items() if lv is not None]
    return sum(1 for r, cid in counted if r.confirmed.get(cid, False)) / len(counted) if counted else 0.0


def most_missed(rows: list[CohortRow], ref: Referentiel, criteria: list[str] | None = None) -> list[MissedCriterion]:
    """Criteria by share of candidates below `acquired_min_level`, highest first (ties: more candidates below,
    then referentiel order). Criteria nobody has a level for are left out."""
    threshold = ref.scale.rule.acquired_min_level
    texts = {k.id: k.label for k in ref.criteria_by_id.values()}
    out = []
    for cid in criteria if criteria is not None else _criteria(rows, ref):
        counted = [r for r in rows if r.levels.get(cid) is not None]
        if not counted:
            continue
        below = sum(1 for r in counted if (r.levels[cid] or 0) < threshold)
        out.append(
            MissedCriterion(
                criterion_id=cid,
                text=texts.get(cid, ""),
                assessed=len(counted),
                below=below,
                share=below / len(counted),
                suggested=sum(1 for r in counted if not r.confirmed.get(cid, False)),
            )
        )
    order = {cid: i for i, cid in enumerate(criteria or [m.criterion_id for m in out])}
    return sorted(out, key=lambda m: (-m.share, -m.below, order.get(m.criterion_id, len(order))))


def _cell(row: CohortRow, cid: str) -> str:
    if cid not in row.levels:
        return ""
    level = row.levels[cid]
    if level is None:
        return "?"
    return str(level) if row.confirmed.get(cid, False) else f"{level} ({SUGGESTED_MARK})"


def _write_matrix(path: Path, rows: list[CohortRow], criteria: list[str], columns: list[str]) -> None:
    """Criteria x candidates; a level is `2` when confirmed, `2 (suggéré)` otherwise, `?` when unknown,
    empty when the criterion is not assessed in that candidate's module. Two lines follow the header:
    the module and the share of confirmed levels of each candidate."""
    with path.open("w", encoding=CSV_ENCODING, newline="") as f:
        w = csv_safe.writer(f, delimiter=CSV_DELIMITER)
        w.writerow(["critère", *columns])
        w.writerow(["module", *(r.module for r in rows)])
        w.writerow(["statut", *(_row_status(r) for r in rows)])
        for cid in criteria:
            w.writerow([cid, *(_cell(r, cid) for r in rows)])


def _row_status(row: CohortRow) -> str:
    known = [cid for cid, lv in row.levels.items() if lv is not None]
    done = sum(1 for cid in known if row.confirmed.get(cid, False))
    if known and done == len(known):
        return CONFIRMED_MARK
    return f"{SUGGESTED_MARK} ({done}/{len(known)} {CONFIRMED_MARK}s)" if done else SUGGESTED_MARK


def _write_most_missed(path: Path, missed: list[MissedCriterion]) -> None:
    with path.open("w", encoding=CSV_ENCODING, newline="") as f:
        w = csv_safe.writer(f, delimiter=CSV_DELIMITER)
        w.writerow(
            [
                "rang",
                "critère",
                "candidats évalués",
                "sous le seuil",
                "part sous le seuil (%)",
                "dont niveaux suggérés",
                "intitulé officiel",
            ]
        )
        for i, m in enumerate(missed, 1):
            w.writerow([i, m.criterion_id, m.assessed, m.below, f"{100 * m.share:.0f}", m.suggested, m.text])


def _heatmap(
    path: Path, rows: list[CohortRow], criteria: list[str], columns: list[str], ref: Referentiel, modules: list[str]
) -> None:
    """Criteria on Y, candidates on X, one colour per scale level; a starred value is an unconfirmed suggestion.

    Drawn on a bare `Figure` (Agg canvas), so nothing depends on the process-wide pyplot backend.
    """
    levels = [lv.level for lv in ref.scale.levels]
    data = np.full((len(criteria), len(rows)), np.nan)
    for j, r in enumerate(rows):
        for i, cid in enumerate(criteria):
            lv = r.levels.get(cid)
            if lv is not None:
                data[i, j] = lv
    colours = colormaps["RdYlGn"](np.linspace(0.08, 0.92, len(levels)))
    cmap = ListedColormap(colours).with_extremes(bad="#e6e6e6")
    norm = BoundaryNorm([lv - 0.5 for lv in levels] + [levels[-1] + 0.5], cmap.N)

    width = min(40.0, max(7.0, 2.6 + 0.42 * len(rows)))
    height = min(40.0, max(4.0, 2.4 + 0.32 * len(criteria)))
    fig = Figure(figsize=(width, height), dpi=110)  # no pyplot: no global state, no GUI backend
    ax = fig.subplots()
    ax.imshow(np.ma.masked_invalid(data), cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(rows)), labels=columns, rotation=60, ha="right", rotation_mode="anchor", fontsize=8)
    ax.set_yticks(range(len(criteria)), labels=criteria, fontsize=8)
    ax.set_xticks(np.arange(-0.5, len(rows)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(criteria)), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.2)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for j, r in enumerate(rows):
        for i, cid in enumerate(criteria):
            text = _cell(r, cid)
            if not text:
                continue
            starred = text.endswith(f"({SUGGESTED_MARK})")
            ink = "#222222"
            if not np.isnan(data[i, j]):
                red, green, blue, _ = colours[levels.index(int(data[i, j]))]
                ink = "white" if 0.299 * red + 0.587 * green + 0.114 * blue < 0.55 else ink
            ax.text(
                j,
                i,
                text.split(" ")[0] + ("*" if starred else ""),
                ha="center",
                va="center",
                fontsize=7.5,
                color=ink,
                fontstyle="italic" if starred else "normal",
                fontweight="normal" if starred else "bold",
            )
    scope = ", ".join(modules) if modules else "—"
    ax.set_title(
        f"Niveaux par critère et par candidat — module{'s' if len(modules) > 1 else ''} {scope} "
        f"({len(rows)} candidat{'s' if len(rows) > 1 else ''})",
        fontsize=11,
        loc="left",
        pad=10,
    )
    ax.set_xlabel("Candidats", fontsize=9)
    ax.set_ylabel("Critères", fontsize=9)
    handles = [Patch(facecolor=colours[k], label=f"{lv.level} — {lv.label}") for k, lv in enumerate(ref.scale.levels)]
    handles.append(Patch(facecolor="#e6e6e6", label="? sans niveau / non évalué"))
    ax.legend(
        handles=handles,
        title=f"Échelle (acquis à partir de {ref.scale.rule.acquired_min_level})\n* = suggestion non confirmée",
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        title_fontsize=8,
        frameon=False,
        alignment="left",
    )
    fig.savefig(path, dpi=110, bbox_inches="tight", pad_inches=0.2)


def cohort_markdown(result: CohortResult, top: int = 10) -> str:
    """French summary: the most missed criteria with their official text."""
    lines = [
        "# Synthèse de la cohorte",
        "",
        f"{result.candidates} candidat(s), module(s) {', '.join(result.modules) or '—'}, "
        f"{len(result.criteria)} critère(s). Seuil d’acquisition : niveau {result.threshold} "
        f"({result.threshold_label}).",
        "",
        f"Part des niveaux confirmés par un évaluateur : {100 * result.confirmed_share:.0f} %. "
        "Les autres sont des suggestions de l’outil, non validées : "
        + ("elles sont comptées ci-dessous et signalées." if result.confirmed_share < 1 else "aucune ici."),
        "",
        "## Critères les plus souvent non atteints",
        "",
    ]
    shown = [m for m in result.most_missed if m.below > 0][:top]
    if not shown:
        lines += ["Aucun critère sous le seuil dans cette cohorte.", ""]
    else:
        lines += ["| Rang | Critère | Sous le seuil | Dont suggestions | Intitulé officiel |", "|---|---|---|---|---|"]
        for i, m in enumerate(shown, 1):
            text = m.text.replace("|", "\\|")
            lines.append(
                f"| {i} | {m.criterion_id} | {m.below}/{m.assessed} ({100 * m.share:.0f} %) | {m.suggested} | {text} |"
            )
        lines.append("")
    lines += [
        "Fichiers : `cohort.csv` (niveaux par critère et par candidat ; « (suggéré) » marque un niveau non confirmé), "
        "`heatmap.png` (carte des niveaux ; * = suggestion non confirmée), `most_missed.csv` (classement complet).",
        "",
    ]
    return "\n".join(lines)
