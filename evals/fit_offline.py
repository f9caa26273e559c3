"""Fit the offline drafter's level model on the DEV split of an eval run, never on test.

    dossier-review eval samples --out /tmp/r.json
    python -m evals.fit_offline /tmp/r.json        # rewrites pipeline/drafting/offline_model.json

Ridge regression of the gold level on the drafter's features, then the three cut points
that maximise exact agreement on dev (ties broken by adjacent agreement).
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np

from pipeline.drafting.offline import FEATURES, MODEL_FILE


def fit(rows: list[dict[str, object]], ridge: float = 20.0) -> dict[str, object]:
    dev = [r for r in rows if r["split"] == "dev" and r["features"]]
    if not dev:
        raise SystemExit("no dev rows with features: run `dossier-review eval` with the offline backend first")
    x = np.array([[float(r["features"][f]) for f in FEATURES] for r in dev])  # type: ignore[index]
    y = np.array([float(r["gold"]) for r in dev])  # type: ignore[arg-type]
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mu) / sd
    a = np.hstack([np.ones((len(z), 1)), z])
    reg = ridge * np.eye(a.shape[1])
    reg[0, 0] = 0
    w = np.linalg.solve(a.T @ a + reg, a.T @ y)
    coefs = {f: float(w[i + 1] / sd[i]) for i, f in enumerate(FEATURES)}
    intercept = float(w[0] - sum(w[i + 1] * mu[i] / sd[i] for i in range(len(FEATURES))))
    score = intercept + x @ np.array([coefs[f] for f in FEATURES])
    grid = np.round(np.arange(-0.5, 3.51, 0.05), 2)
    best: tuple[float, float, tuple[float, ...]] = (-1.0, -1.0, (0.5, 1.5, 2.5))
    for t in itertools.combinations(grid, 3):
        pred = (score[:, None] >= np.array(t)).sum(axis=1)
        exact = float((pred == y).mean())
        adj = float((np.abs(pred - y) <= 1).mean())
        if (exact, adj) > best[:2]:
            best = (exact, adj, tuple(float(v) for v in t))
    dossiers = sorted({str(r["case"]).split("/")[0] for r in dev})
    print(f"fitted on {len(dev)} dev rows from {dossiers}: dev exact {best[0]:.3f}, adjacent {best[1]:.3f}")
    return {
        "description": "Fitted by evals/fit_offline.py (ridge regression + cut points maximising exact agreement) "
        "on the dev split only; test figures are never used to fit.",
        "intercept": round(intercept, 5),
        "coefs": {k: round(v, 5) for k, v in coefs.items()},
        "thresholds": [round(t, 3) for t in best[2]],
        "evidence_min": 0.2,
        "fitted_on": dossiers,
        "dev_rows": len(dev),
    }


def main() -> None:
    results = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    model = fit(results["rows"])
    MODEL_FILE.write_text(json.dumps(model, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
