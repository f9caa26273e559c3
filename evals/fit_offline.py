"""Fit the offline drafter's level model on the DEV split of an eval run, never on test.

    dossier-review eval samples --out /tmp/r.json
    python -m evals.fit_offline /tmp/r.json [referentiel]   # rewrites the referentiel's level models

The referentiel (a bundled id or a YAML path; default: the setting) names, per module, the
file its level model lives in (`level_models`); modules sharing a file are fitted together.

Model: ridge regression of the gold level on a subset of the drafter's features, then three
cut points that maximise exact agreement. The feature subset and the ridge strength are chosen
by leave-one-dossier-out cross-validation *within dev* (quadratic weighted kappa, then exact
agreement), so the choice never looks at test; the final model is refitted on all of dev.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.drafting.features import DOSSIER_MEANS, FEATURES
from pipeline.referentiel import resolve_referentiel
from pipeline.reports.agreement import cohen_kappa
from pipeline.settings import Settings

BASE = ["dense_max", "dense_top3", "coverage", "best_sentence", "specificity", "support"]
# the same with coverage and specificity read without their all-or-nothing steps
BASE_SOFT = ["dense_max", "dense_top3", "coverage_soft", "best_sentence", "specificity_soft", "support"]
# what the scale asks of a criterion's evidence sentences: quantified, justified, argued (features.py)
QUALITIES = ["ev_sentences", "ev_quantified", "ev_justified", "ev_reasoned"]
# how the criterion compares with the others, its evidence's figures, the dossier's argued choices
CONTEXT = ["rel_dense", "evidence_figures", "doc_reasoning"]
SOFT_ROUND4 = [*BASE_SOFT, *CONTEXT, *QUALITIES]  # round 4b's set
# generic statements among the evidence and the dossier's passages (round 6: « générique », level 1)
GENERIC = ["ev_generic", "doc_generic"]
# the best sentence and the supporting passages read with the plain paraphrase too (round 7d)
PLAIN_SCORED = ["best_shown", "support_shown"]
ROUND5B = [f for f in FEATURES if f not in GENERIC and f not in PLAIN_SCORED]
DOSSIER_MEANS_SET = [*SOFT_ROUND4, *(f"doc_mean_{name}" for name in DOSSIER_MEANS)]
CANDIDATE_SETS = {
    "base": BASE,
    "base+relative": [*BASE, "rel_dense"],
    "base+relative+evidence figures": [*BASE, "rel_dense", "evidence_figures"],
    # an argued dossier weighs options, scenarios and hypotheses (vocabulary: reasoning_patterns)
    "base+relative+reasoning": [*BASE, "rel_dense", "doc_reasoning"],
    "base+relative+evidence figures+reasoning": [*BASE, "rel_dense", "evidence_figures", "doc_reasoning"],
    "base+relative+evidence figures+reasoning+evidence qualities": [*BASE, *CONTEXT, *QUALITIES],
    "base (soft)+relative+evidence figures+reasoning+evidence qualities": SOFT_ROUND4,
    # how well the dossier as a whole answers the grid: per-criterion features averaged over the module
    "base (soft)+relative+evidence figures+reasoning+evidence qualities+dossier means": DOSSIER_MEANS_SET,
    "base (soft)+relative+evidence figures+reasoning+evidence qualities+dossier means+plain-scored": [
        *DOSSIER_MEANS_SET,
        *PLAIN_SCORED,
    ],
    "base (soft)+relative+evidence figures+reasoning+evidence qualities+dossier quantified": [
        *SOFT_ROUND4,
        "doc_mean_ev_quantified",
    ],
    "all but generic (round 5b's set)": ROUND5B,
    "round 5b's set+plain-scored": [*ROUND5B, *PLAIN_SCORED],
    "all": FEATURES,
}
RIDGES = (1.0, 5.0, 20.0, 50.0)
# with or without one offset per criterion (one-hot columns under the same ridge): some criteria are
# marked lower than their retrieved passages suggest (a method transposable to a new activity, C6.6)
OFFSETS = (False, True)
# a predicted level gets its own confidence curve from this many out-of-fold dev rows on
CALIBRATION_MIN_ROWS = 30
# pseudo-rows at the overall rate added to each calibration step (a prior, not tuned)
CALIBRATION_PRIOR_ROWS = 10.0
TIE = 0.01  # cross-validated QWK within this of the best counts as the same
# least out-of-fold agreement between the levels of a dossier's DOCX and PDF for a candidate to be
# chosen (issue 13's target)
FORMAT_FLOOR = 0.90
GRID = np.round(np.arange(-0.5, 3.51, 0.05), 2)


def _fit(x: np.ndarray, y: np.ndarray, ridge: float) -> tuple[float, np.ndarray, tuple[float, ...]]:
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mu) / sd
    a = np.hstack([np.ones((len(z), 1)), z])
    reg = ridge * np.eye(a.shape[1])
    reg[0, 0] = 0
    w = np.linalg.solve(a.T @ a + reg, a.T @ y)
    coefs = w[1:] / sd
    intercept = float(w[0] - (w[1:] * mu / sd).sum())
    score = intercept + x @ coefs
    return intercept, coefs, _cuts(score, y)


def _cuts(score: np.ndarray, y: np.ndarray) -> tuple[float, ...]:
    """The three cut points on GRID that maximise quadratic weighted kappa, then exact agreement,
    then within-one agreement.

    The scale is ordinal and the model is chosen by QWK: cuts that maximised exact agreement alone
    squeezed level 2 into a 0.05-wide band, so a level-3 dossier read as 1 (two levels off) rather
    than 2. Every count splits over the four intervals the cuts make (QWK's weighted observed and
    expected sums too), so every triple i1 < i2 < i3 is scored at once from per-level cumulative
    counts (the same choice as trying every combination, in milliseconds)."""
    levels = np.arange(4)
    below = (score[None, :, None] < GRID[None, None, :]) & (y[None, :, None] == levels[:, None, None])
    c = below.sum(axis=1).astype(float)  # c[l, i]: rows of level l scoring below GRID[i]
    n = (y[None, :] == levels[:, None]).sum(axis=1).astype(float)
    # exact = c0[i1] + (c1[i2] - c1[i1]) + (c2[i3] - c2[i2]) + (n3 - c3[i3])
    exact = (c[0] - c[1])[:, None, None] + (c[1] - c[2])[None, :, None] + (c[2] - c[3])[None, None, :] + n[3]
    # within one: level 0 predicted for y in {0, 1}; 1 for {0, 1, 2}; 2 for {1, 2, 3}; 3 for {2, 3}
    a0 = c[0] + c[1]
    a1 = c[0] + c[1] + c[2]
    a2 = c[1] + c[2] + c[3]
    a3 = c[2] + c[3]
    adj = (a0 - a1)[:, None, None] + (a1 - a2)[None, :, None] + (a2 - a3)[None, None, :] + (n[2] + n[3])
    # QWK = 1 - observed / expected, both weighted by (l - k)^2 / 9; each splits over i1, i2, i3
    w = (levels[:, None] - levels[None, :]) ** 2 / 9.0
    observed = (
        ((w[:, 0] - w[:, 1]) @ c)[:, None, None]
        + ((w[:, 1] - w[:, 2]) @ c)[None, :, None]
        + ((w[:, 2] - w[:, 3]) @ c)[None, None, :]
        + float(w[:, 3] @ n)
    )
    s, v, total = c.sum(axis=0), w.T @ n, float(n.sum())
    expected = (
        (s * (v[0] - v[1]))[:, None, None] + (s * (v[1] - v[2]))[None, :, None] + (s * (v[2] - v[3]))[None, None, :]
    ) / total + float(v[3])
    qwk = 1.0 - observed / np.maximum(expected, 1e-9)
    g = len(GRID)
    i1, i2, i3 = np.meshgrid(np.arange(g), np.arange(g), np.arange(g), indexing="ij")
    # lexicographic: QWK to six decimals first (a step of 1e-6 outweighs every count below it)
    score_ = np.round(qwk, 6) * 1e12 + exact * (len(y) + 1) + adj
    key = np.where((i1 < i2) & (i2 < i3), score_, -np.inf)
    best = np.unravel_index(int(np.argmax(key)), key.shape)
    return tuple(float(GRID[i]) for i in best)


def _predict(x: np.ndarray, intercept: float, coefs: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    return ((intercept + x @ coefs)[:, None] >= np.array(cuts)).sum(axis=1)


def _margins(score: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    return np.min(np.abs(score[:, None] - np.array(cuts)[None, :]), axis=1)


def _out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-dossier-out: each row's predicted level, and its score's distance to the nearest
    cut point, from a model fitted without its dossier."""
    pred, margin = np.zeros(len(y)), np.zeros(len(y))
    for g in sorted(set(groups)):
        train, held = groups != g, groups == g
        b, c, t = _fit(x[train], y[train], ridge)
        pred[held] = _predict(x[held], b, c, t)
        margin[held] = _margins(b + x[held] @ c, t)
    return pred, margin


def _pool(blocks: list[list[float]]) -> list[list[float]]:
    """Pool adjacent violators over [sum_y, weight, max_x] blocks until their means never decrease."""
    pooled: list[list[float]] = []
    for block in blocks:
        pooled.append(list(block))
        while len(pooled) > 1 and pooled[-2][0] / pooled[-2][1] >= pooled[-1][0] / pooled[-1][1]:
            s, n, mx = pooled.pop()
            pooled[-1][0] += s
            pooled[-1][1] += n
            pooled[-1][2] = mx
    return pooled


def _isotonic(x: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    """Pool-adjacent-violators: the non-decreasing step function of y over x (least squares), each
    step then shrunk towards the overall rate by CALIBRATION_PRIOR_ROWS pseudo-rows (and pooled
    again), so that a step of two rows at either end never claims 0 or 1."""
    order = np.argsort(x, kind="stable")
    steps = _pool([[float(yi), 1.0, float(xi)] for xi, yi in zip(x[order], y[order], strict=True)])
    rate, m = float(np.mean(y)), CALIBRATION_PRIOR_ROWS
    steps = _pool([[s + m * rate, n + m, mx] for s, n, mx in steps])
    return [round(b[2], 4) for b in steps], [round(b[0] / b[1], 4) for b in steps]


def _format_pairs(rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Row indices of the same criterion of one dossier read from two files (its DOCX and its PDF)."""
    first: dict[tuple[str, str], int] = {}
    pairs = []
    for i, r in enumerate(rows):
        key = (str(r["case"]).split("/")[0], str(r["criterion"]))
        if key in first:
            pairs.append((first[key], i))
        else:
            first[key] = i
    return pairs


def _matrix(rows: list[dict[str, Any]], feats: list[str], criteria: list[str]) -> np.ndarray:
    """The features of each row, then one indicator column per criterion of `criteria` (if any)."""
    return np.array(
        [
            [float(r["features"].get(f, 0.0)) for f in feats] + [float(r["criterion"] == c) for c in criteria]
            for r in rows
        ]
    )


def calibrate(
    dev: list[dict[str, Any]], x: np.ndarray, ridge: float, groups: np.ndarray, y: np.ndarray
) -> dict[str, Any]:
    """Confidence = probability that the level is exactly right, from out-of-fold predictions on dev:
    isotonic in the distance of the score to the nearest cut point; a criterion without any quote
    gets the dev rate at which "no quote" meant the lowest level.

    Also per predicted level (`by_level`, for levels with at least CALIBRATION_MIN_ROWS quoted dev
    rows): on dev, out of fold, a level between two cuts 0.45 apart was right about half as often
    as an extreme level at the same distance from its cut, which one curve for all levels hid."""
    pred, margin = _out_of_fold(x, y, groups, ridge)
    correct = pred == y
    quoted = np.array([int(r.get("quotes", 1)) > 0 for r in dev])
    xs, ps = _isotonic(margin[quoted], correct[quoted])
    by_level = {}
    for level in sorted({int(p) for p in pred[quoted]}):
        rows = quoted & (pred == level)
        if rows.sum() >= CALIBRATION_MIN_ROWS:
            lx, lp = _isotonic(margin[rows], correct[rows])
            by_level[str(level)] = {"margin": lx, "p_exact": lp, "rows": int(rows.sum())}
    bare = y[~quoted]
    return {
        "description": "isotonic fit of exact-level correctness on the score's distance to the nearest cut point, "
        "leave-one-dossier-out predictions on dev; by_level: the same per predicted level",
        "margin": xs,
        "p_exact": ps,
        "by_level": by_level,
        "no_evidence_p_exact": round(float((bare == 0).mean()), 4) if len(bare) else None,
        "rows": int(quoted.sum()),
    }


def fit(rows: list[dict[str, Any]]) -> dict[str, Any]:
    dev = [r for r in rows if r["split"] == "dev" and r["features"]]
    if not dev:
        raise SystemExit("no dev rows with features: run `dossier-review eval` with the offline backend first")
    y = np.array([float(r["gold"]) for r in dev])
    groups = np.array([str(r["case"]).split("/")[0] for r in dev])
    levels = sorted({int(v) for v in y} | {0, 1, 2, 3})
    criteria = sorted({str(r["criterion"]) for r in dev})
    pairs = _format_pairs(dev)
    results = []
    for (name, feats), ridge, offsets in itertools.product(CANDIDATE_SETS.items(), RIDGES, OFFSETS):
        x = _matrix(dev, feats, criteria if offsets else [])
        pred, _ = _out_of_fold(x, y, groups, ridge)
        qwk = cohen_kappa([int(v) for v in y], [int(v) for v in pred], levels, "quadratic") or 0.0
        exact = float((pred == y).mean())
        within = float((np.abs(pred - y) <= 1).mean())
        agree = float(np.mean([pred[a] == pred[b] for a, b in pairs])) if pairs else 1.0
        results.append((qwk, exact, name, ridge, offsets, agree))
        label = name + (" + criterion offsets" if offsets else "")
        print(
            f"  CV within dev  {label:80s} ridge {ridge:5.1f}: QWK {qwk:.3f}, exact {exact:.3f}, ±1 {within:.3f}, "
            f"DOCX/PDF {agree:.3f}"
        )
    # the simplest model within TIE of the best cross-validated QWK (fewest parameters, then the
    # strongest ridge) among those whose DOCX and PDF levels agree at least FORMAT_FLOOR of the time:
    # differences that small are noise on 21 dossiers, and fewer parameters transfer
    eligible = [r for r in results if r[5] >= FORMAT_FLOOR] or results
    best = max(r[0] for r in eligible)
    qwk, exact, name, ridge, offsets, _ = min(
        (r for r in eligible if r[0] >= best - TIE),
        key=lambda r: (len(CANDIDATE_SETS[r[2]]) + (len(criteria) if r[4] else 0), -r[3]),
    )
    feats = CANDIDATE_SETS[name]
    x = _matrix(dev, feats, criteria if offsets else [])
    intercept, weights, cuts = _fit(x, y, ridge)
    coefs, offs = weights[: len(feats)], weights[len(feats) :]
    if offsets:  # centred over the dev rows, so that a criterion without an offset gets the mean
        mean = float((x[:, len(feats) :] @ offs).mean())
        offs, intercept = offs - mean, intercept + mean
    calibration = calibrate(dev, x, ridge, groups, y)
    dossiers = sorted(str(g) for g in set(groups))
    print(
        f"chosen: {name}{' + criterion offsets' if offsets else ''}, ridge {ridge} (leave-one-dossier-out on dev: "
        f"QWK {qwk:.3f}, exact {exact:.3f}); refitted on {len(dev)} dev rows from {dossiers}"
    )
    return {
        "description": "Fitted by evals/fit_offline.py on the dev split only: ridge regression + cut points; feature "
        "set and ridge chosen by leave-one-dossier-out cross-validation within dev (the simplest within 0.01 QWK of "
        "the best). Test is never used.",
        "intercept": round(intercept, 5),
        "coefs": {f: round(float(c), 5) for f, c in zip(feats, coefs, strict=True)},
        "criterion_offsets": {c: round(float(o), 5) for c, o in zip(criteria, offs, strict=True)} if offsets else {},
        "thresholds": [round(t, 3) for t in cuts],
        "evidence_min": 0.2,
        "calibration": calibration,
        "fitted_on": dossiers,
        "dev_rows": len(dev),
        "selection": {
            "features": name,
            "criterion_offsets": offsets,
            "ridge": ridge,
            "cv_qwk": round(qwk, 4),
            "cv_exact": round(exact, 4),
        },
    }


def main() -> None:
    results = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    ref = resolve_referentiel(sys.argv[2] if len(sys.argv) > 2 else Settings().referentiel)
    targets: dict[Path, list[str]] = {}
    for module in sorted({str(r["module"]) for r in results["rows"]}):
        path = ref.level_model_path(module)
        if path is None:
            print(f"{module}: no level_models entry in {ref.id}: skipped (evidence-only mode)")
            continue
        targets.setdefault(path, []).append(module)
    for path, modules in targets.items():
        model = fit([r for r in results["rows"] if r["module"] in modules])
        embedder = results.get("settings", {}).get("embedder") or Settings().embedder
        model = {
            "id": f"{ref.id}-offline-linear",
            "referentiel": ref.id,
            "modules": modules,
            "embedder": embedder,
            **model,
        }
        path.write_text(json.dumps(model, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {path} ({', '.join(modules)})")


if __name__ == "__main__":
    main()
