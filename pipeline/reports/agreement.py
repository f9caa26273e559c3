"""How far the tool's suggested levels agree with the assessors' confirmed levels.

Per criterion and overall: exact and within-one agreement, Cohen's kappa (unweighted and
quadratic-weighted), the mean gap, and a confusion matrix of suggested x confirmed levels.
Pairs without a suggestion are counted apart ("sans suggestion"), never as disagreements.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import ReviewError
from pipeline.referentiel import Referentiel

SMALL_SAMPLE = 10  # below this many pairs, a kappa is shown but flagged as unreliable


class AgreementPair(NamedTuple):
    """One decision: the tool's suggestion (None when it made none) and the assessor's confirmed level."""

    run_id: str
    criterion_id: str
    suggested: int | None
    confirmed: int


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgreementStats(_M):
    n: int = Field(description="Pairs with both a suggestion and a confirmed level.")
    without_suggestion: int = Field(description="Confirmed levels for which the tool made no suggestion.")
    exact: float | None = Field(description="Share of pairs where suggested == confirmed.")
    within_one: float | None = Field(description="Share of pairs at most one level apart.")
    kappa: float | None = Field(description="Cohen's kappa, unweighted; None when undefined.")
    weighted_kappa: float | None = Field(description="Cohen's kappa with quadratic weights; None when undefined.")
    mean_gap: float | None = Field(description="Mean of confirmed - suggested: > 0 when the tool under-rates.")


class AgreementReport(_M):
    levels: list[int]
    labels: list[str]
    overall: AgreementStats
    per_criterion: dict[str, AgreementStats] = Field(description="In referentiel order.")
    criterion_texts: dict[str, str]
    confusion: list[list[int]] = Field(description="confusion[i][j]: suggested levels[i], confirmed levels[j].")
    runs: int


def cohen_kappa(a: Sequence[int], b: Sequence[int], levels: Sequence[int], weights: str | None = None) -> float | None:
    """Cohen's kappa between two raters over `levels`; `weights` None (unweighted), "linear" or "quadratic".

    None when undefined: no pairs, or chance agreement is total (both raters always gave one same level).
    """
    if len(a) != len(b):
        raise ValueError(f"rater sequences differ in length: {len(a)} and {len(b)}")
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"unknown weights {weights!r}: use None, 'linear' or 'quadratic'")
    if not a:
        return None
    k = len(levels)
    observed = confusion_matrix(a, b, levels)
    rows = [sum(r) for r in observed]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    n = len(a)

    def weight(i: int, j: int) -> float:
        if weights is None:
            return 0.0 if i == j else 1.0
        span = max(k - 1, 1)
        return abs(i - j) / span if weights == "linear" else (i - j) ** 2 / span**2

    disagreement = sum(weight(i, j) * observed[i][j] for i in range(k) for j in range(k)) / n
    chance = sum(weight(i, j) * rows[i] * cols[j] for i in range(k) for j in range(k)) / (n * n)
    if chance == 0:
        return None
    return 1.0 - disagreement / chance


def confusion_matrix(a: Sequence[int], b: Sequence[int], levels: Sequence[int]) -> list[list[int]]:
    """matrix[i][j]: pairs where a == levels[i] and b == levels[j]."""
    idx = {lv: i for i, lv in enumerate(levels)}
    out = [[0] * len(levels) for _ in levels]
    for x, y in zip(a, b, strict=True):
        if x not in idx or y not in idx:
            raise ValueError(f"level {x if x not in idx else y} is not on the scale {list(levels)}")
        out[idx[x]][idx[y]] += 1
    return out


def _stats(pairs: list[AgreementPair], levels: list[int]) -> AgreementStats:
    usable = [p for p in pairs if p.suggested is not None]
    s = [p.suggested for p in usable if p.suggested is not None]
    c = [p.confirmed for p in usable]
    n = len(usable)
    return AgreementStats(
        n=n,
        without_suggestion=len(pairs) - n,
        exact=sum(x == y for x, y in zip(s, c, strict=True)) / n if n else None,
        within_one=sum(abs(x - y) <= 1 for x, y in zip(s, c, strict=True)) / n if n else None,
        kappa=cohen_kappa(s, c, levels),
        weighted_kappa=cohen_kappa(s, c, levels, "quadratic"),
        mean_gap=sum(y - x for x, y in zip(s, c, strict=True)) / n if n else None,
    )


def agreement(pairs: list[AgreementPair], ref: Referentiel) -> AgreementReport:
    """Agreement between suggested and confirmed levels, overall and per criterion."""
    levels = [lv.level for lv in ref.scale.levels]
    _check(pairs, levels)
    order = {k.id: i for i, k in enumerate(ref.criteria_by_id.values())}
    by_crit: dict[str, list[AgreementPair]] = {}
    for p in sorted(pairs, key=lambda p: (order.get(p.criterion_id, len(order)), p.criterion_id)):
        by_crit.setdefault(p.criterion_id, []).append(p)
    usable = [p for p in pairs if p.suggested is not None]
    texts = {k.id: k.label for k in ref.criteria_by_id.values()}
    return AgreementReport(
        levels=levels,
        labels=[lv.label for lv in ref.scale.levels],
        overall=_stats(pairs, levels),
        per_criterion={cid: _stats(ps, levels) for cid, ps in by_crit.items()},
        criterion_texts={cid: texts.get(cid, "") for cid in by_crit},
        confusion=confusion_matrix(
            [p.suggested for p in usable if p.suggested is not None], [p.confirmed for p in usable], levels
        ),
        runs=len({p.run_id for p in pairs}),
    )


def _check(pairs: list[AgreementPair], levels: list[int]) -> None:
    allowed = set(levels)
    for p in pairs:
        bad = [lv for lv in (p.suggested, p.confirmed) if lv is not None and lv not in allowed]
        if bad:
            msg = f"run {p.run_id}, criterion {p.criterion_id}: level {bad[0]} is not on the scale {levels}"
            raise ReviewError(
                msg,
                f"Niveau {bad[0]} hors de l’échelle ({levels}) pour le critère "
                f"{p.criterion_id} de l’analyse {p.run_id} : vérifiez l’échelle utilisée.",
            )


# --- French report -------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f} %"


def _num(x: float | None, digits: int = 2) -> str:
    return "non calculable" if x is None else f"{x:.{digits}f}".replace(".", ",")


def kappa_reading(k: float | None) -> str:
    """Landis & Koch's usual reading of a kappa, in French."""
    if k is None:
        return "non calculable"
    for bound, words in ((0.0, "nul"), (0.2, "faible"), (0.4, "passable"), (0.6, "modéré"), (0.8, "bon")):
        if k <= bound:
            return words
    return "très bon"


def agreement_markdown(report: AgreementReport) -> str:
    """French report: how far to trust the tool's suggestions, overall and criterion by criterion."""
    o = report.overall
    lines = [
        "# Accord entre l’outil et les évaluateurs",
        "",
        "## Comment lire ce rapport : à quel point se fier à l’outil",
        "",
        "Chaque niveau suggéré par l’outil est comparé au niveau confirmé par l’évaluateur. L’**accord exact** est la "
        "part des critères où les deux coïncident ; l’**accord à un niveau près** tolère un écart d’un cran. Le "
        "**kappa** corrige l’accord de ce que le hasard seul produirait : 0 signifie « pas mieux que le hasard », "
        "1 un accord parfait ; le **kappa pondéré** (quadratique) pénalise davantage les grands écarts (0 contre 3) "
        "que les petits (1 contre 2), c’est le chiffre le plus parlant pour une échelle ordonnée. Repères usuels : "
        "au-dessous de 0,4 l’outil ne doit servir qu’à retrouver les passages ; entre 0,4 et 0,6 ses suggestions "
        "sont une première lecture à revoir systématiquement ; au-dessus de 0,6 elles sont fiables pour orienter "
        "la lecture, sans jamais remplacer la décision. L’**écart moyen** (confirmé − suggéré) indique un biais : "
        f"positif, l’outil sous-note ; négatif, il sur-note. Avec moins de {SMALL_SAMPLE} décisions sur un critère, "
        "les chiffres de ce critère sont trop fragiles pour conclure.",
        "",
        "## Vue d’ensemble",
        "",
        f"{o.n} décision(s) comparée(s) sur {report.runs} analyse(s)"
        + (f", plus {o.without_suggestion} sans suggestion de l’outil (non comptées)" if o.without_suggestion else "")
        + ".",
        "",
        "| Indicateur | Valeur |",
        "|---|---|",
        f"| Accord exact | {_pct(o.exact)} |",
        f"| Accord à un niveau près | {_pct(o.within_one)} |",
        f"| Kappa pondéré (quadratique) | {_num(o.weighted_kappa)} ({kappa_reading(o.weighted_kappa)}) |",
        f"| Kappa non pondéré | {_num(o.kappa)} ({kappa_reading(o.kappa)}) |",
        f"| Écart moyen (confirmé − suggéré) | {_num(o.mean_gap)} |",
        "",
        "## Matrice de confusion",
        "",
        "Lignes : niveau suggéré par l’outil ; colonnes : niveau confirmé par l’évaluateur. La diagonale compte les "
        "accords.",
        "",
        "| Suggéré \\ Confirmé | "
        + " | ".join(f"{lv} — {lab}" for lv, lab in zip(report.levels, report.labels, strict=True))
        + " |",
        "|---|" + "---|" * len(report.levels),
    ]
    for i, (lv, lab, row) in enumerate(zip(report.levels, report.labels, report.confusion, strict=True)):
        cells = [f"**{v}**" if i == j else str(v) for j, v in enumerate(row)]
        lines.append(f"| {lv} — {lab} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Par critère",
        "",
        "| Critère | n | Sans suggestion | Exact | ±1 | Kappa pondéré | Kappa | Écart moyen |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cid, s in report.per_criterion.items():
        flag = " ⚠" if s.n < SMALL_SAMPLE else ""
        lines.append(
            f"| {cid} | {s.n}{flag} | {s.without_suggestion} | {_pct(s.exact)} | {_pct(s.within_one)} | "
            f"{_num(s.weighted_kappa)} | {_num(s.kappa)} | {_num(s.mean_gap)} |"
        )
    weakest = sorted(
        (
            (s.weighted_kappa, cid)
            for cid, s in report.per_criterion.items()
            if s.n >= SMALL_SAMPLE and s.weighted_kappa is not None
        )
    )[:5]
    lines += ["", f"⚠ : moins de {SMALL_SAMPLE} décisions comparées, chiffres indicatifs.", ""]
    if weakest:
        lines += ["## Critères où l’outil est le moins fiable", ""]
        for k, cid in weakest:
            lines.append(f"- **{cid}** (kappa pondéré {_num(k)}) — {report.criterion_texts.get(cid, '')}")
        lines.append("")
    return "\n".join(lines)
