"""Fit where in a dossier each competency's evidence lies, from the DEV split of a labelled folder.

    python -m evals.fit_positions samples [referentiel]   # rewrites the referentiel's positions file

Each gold quote of a dev dossier is found among the dossier's chunks (as `dossier-review eval`
finds it: 80 % of its words inside one chunk) and its relative position noted, the middle of its
first chunk in reading order (0 = start, 1 = end). Per competency, a Gaussian kernel density of
those positions (BANDWIDTH) is written at POSITION_GRID_POINTS evenly spaced points into
`positions/<referentiel id>.json` beside the referentiel; retrieval reads it as a prior
(`position_weight`). Test dossiers are never read. The bandwidth and the weight were chosen on dev
with each dossier's own quotes left out of its prior (leave-one-dossier-out recall@8).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from evals.harness import _splits, quote_in_chunks
from pipeline.referentiel import POSITION_GRID_POINTS, Criterion, Referentiel, resolve_referentiel
from pipeline.review import read_and_chunk
from pipeline.settings import Settings

BANDWIDTH = 0.12  # chosen on dev among 0.05, 0.08, 0.12, 0.20 (recall@8 0.950-0.957)


def density(points: list[float], bandwidth: float = BANDWIDTH) -> list[float]:
    """Gaussian kernel density of `points` at POSITION_GRID_POINTS points from 0 to 1."""
    grid = np.linspace(0.0, 1.0, POSITION_GRID_POINTS)
    p = np.asarray(points, dtype=float)
    k = np.exp(-0.5 * ((grid[:, None] - p[None, :]) / bandwidth) ** 2) / (bandwidth * np.sqrt(2 * np.pi))
    return [round(float(v), 4) for v in k.mean(axis=1)]


def quote_positions(folder: Path, ref: Referentiel, settings: Settings) -> tuple[dict[str, list[float]], list[str]]:
    """Competency id -> relative positions of the dev dossiers' gold quotes; the dossiers read."""
    criteria: dict[str, Criterion] = ref.criteria_by_id
    splits = _splits(folder)
    points: dict[str, list[float]] = {}
    read: list[str] = []
    for gold_file in sorted(folder.glob("*/gold.json")):
        if splits.get(gold_file.parent.name) != "dev":
            continue
        gold = json.loads(gold_file.read_text(encoding="utf-8"))
        read.append(gold_file.parent.name)
        for fname in gold["files"]:
            _, chunks = read_and_chunk(gold_file.parent / fname, settings)
            for cid, entry in gold["criteria"].items():
                for quote in entry.get("evidence", []):
                    at = next((i for i, c in enumerate(chunks) if quote_in_chunks(quote, [c])), None)
                    if at is not None and cid in criteria:
                        points.setdefault(criteria[cid].competency_id, []).append((at + 0.5) / len(chunks))
    return points, read


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "samples")
    ref = resolve_referentiel(sys.argv[2] if len(sys.argv) > 2 else Settings().referentiel)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        settings.ensure_dirs()
        points, dossiers = quote_positions(folder, ref, settings)
    if not points:
        raise SystemExit(f"no dev gold quote found under {folder}: is there a splits.json with a dev list?")
    out = Path(ref.folder) / "positions" / f"{ref.id}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    quotes = {comp: len(p) for comp, p in sorted(points.items())}
    data = {
        "description": "Where each competency's evidence lies in a dossier: Gaussian kernel density (bandwidth "
        f"{BANDWIDTH}) of the relative positions of the dev dossiers' gold quotes (middle of the first chunk holding "
        f"the quote, 0 = start, 1 = end), at {POSITION_GRID_POINTS} evenly spaced points. Fitted by "
        "evals/fit_positions.py on the dev split only; a retrieval prior (position_weight).",
        "referentiel": ref.id,
        "bandwidth": BANDWIDTH,
        "fitted_on": dossiers,
        "quotes": quotes,
        "density": {comp: density(p) for comp, p in sorted(points.items())},
    }
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}: {sum(quotes.values())} quotes of {len(dossiers)} dev dossiers, {quotes}")


if __name__ == "__main__":
    main()
